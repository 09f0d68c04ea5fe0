import { assertPlainData, assertUnreservedKey, encodeEntry } from './session-data.js'

/**
 * Per-key JSON of session data, taken at load so a commit can tell which keys changed. Read only:
 * a sealed session's snapshot is shared by the requests that send its token (opened-seals.ts).
 */
export type DataSnapshot = ReadonlyMap<string, string>

export interface DataDiff {
  set: Record<string, unknown>
  unset: string[]
  /** True when a key was set or unset. */
  changed: boolean
  /** Serialised size of the data, in UTF-16 code units (close to bytes for ASCII). */
  size: number
  /** The snapshot of the data as it is now. */
  snapshot: DataSnapshot
}

/** Snapshots data loaded from a store (JSON already): one JSON string per top-level key. */
export function snapshotData(data: Record<string, unknown>): Map<string, string> {
  const snap = new Map<string, string>()
  for (const key of Object.keys(data)) {
    const json = JSON.stringify(data[key])
    if (json !== undefined) snap.set(key, json)
  }
  return snap
}

/** Fresh data rebuilt from a snapshot: a deep copy that shares nothing with the original. */
export function dataFromSnapshot(snap: DataSnapshot): Record<string, unknown> {
  const data = Object.create(null) as Record<string, unknown>
  for (const [key, json] of snap) data[key] = JSON.parse(json) as unknown
  return data
}

/**
 * Compares data with the snapshot taken at load: only top-level keys that changed are written.
 * The serialisation also checks the data (session-data.ts), so what JSON cannot keep is refused
 * with `TETHER_INVALID_SESSION_DATA` before anything is written.
 */
export function diffData(before: DataSnapshot | null, data: Record<string, unknown>): DataDiff {
  assertPlainData(data)
  const snapshot = new Map<string, string>()
  const set: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  const unset: string[] = []
  let size = 2
  let changed = false
  for (const key of Object.keys(data)) {
    const json = encodeEntry(data, key)
    if (json === undefined) continue
    snapshot.set(key, json)
    size += key.length + json.length + 4
    if (before?.get(key) !== json) {
      // Refused when set: a reserved key stored before the rule existed loads and stays as it is.
      assertUnreservedKey(key)
      set[key] = JSON.parse(json) as unknown
      changed = true
    }
  }
  if (before !== null) {
    for (const key of before.keys()) {
      if (!snapshot.has(key)) {
        unset.push(key)
        changed = true
      }
    }
  }
  return { set, unset, changed, size, snapshot }
}
