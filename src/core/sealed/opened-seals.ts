import type { KeyEntry } from '../../codec/keyring.js'
import { ownCopy } from '../../codec/own-copy.js'
import { MAX_SEALED_LENGTH, openSeal, type OpenResult } from '../../codec/seal.js'
import { snapshotData, type DataSnapshot } from '../diff.js'
import type { ClassPolicy } from '../options.js'
import { decodePayload, type Unsealed } from './payload.js'

/** Sealed tokens kept by default. */
export const KEPT_SEALS = 2048

/** Characters of kept tokens and their payloads, at most (about 4 MB of text). */
export const KEPT_SEAL_CHARS = 4 * 1024 * 1024

/** A sealed token opened: its key, the session it holds (frozen) and the snapshot of its data. */
export interface OpenedSession {
  readonly ok: true
  readonly key: KeyEntry
  readonly unsealed: Unsealed
  readonly snapshot: DataSnapshot
}

export type OpenedResult =
  | OpenedSession
  | { readonly ok: false; readonly reason: Extract<OpenResult, { ok: false }>['reason'] }

export interface OpenedSeals {
  /** `openSeal` and `decodePayload` for this manager, with the tokens that opened kept. */
  open(token: string): OpenedResult
  /** Keeps a token this manager has just sealed, so the request that sends it back skips the decryption. */
  remember(token: string, key: KeyEntry, payload: string): void
}

interface Kept {
  readonly key: KeyEntry
  readonly payload: string
  /** The token's length and the payload's: what it counts against the budget. */
  readonly chars: number
  /** Decoded on first use: a token sealed and never sent back costs no decoding. */
  opened: OpenedSession | null
}

interface Limits {
  readonly tokens: number
  readonly chars: number
}

/**
 * The sealed tokens of one manager that opened, or that it sealed, kept by their exact text with
 * their plaintext, so a token sent again costs a map lookup instead of an AES-GCM decryption, a
 * JSON parse and a SHA-256. What a hit returns is what opening that text returns: the kept session
 * is frozen and shared, and the load checks its times, its revocation marks and its binding on every
 * request as for any other. A manager's keys never change, so what opened once opens again. Only
 * tokens that opened, or that this manager sealed, are kept; a forged or malformed one never is.
 * Bounded by count and by characters: past either the oldest leaves first, so a flood of valid
 * tokens costs speed, never memory.
 */
export function createOpenedSeals(
  keys: ReadonlyMap<string, KeyEntry>,
  classOf: (name: string) => ClassPolicy | undefined,
  limits: Limits = { tokens: KEPT_SEALS, chars: KEPT_SEAL_CHARS },
): OpenedSeals {
  const kept = new Map<string, Kept>()
  let chars = 0

  function keep(token: string, entry: Kept): void {
    // A token no request could send (over the length cap) is never kept: open() must refuse it.
    if (token.length > MAX_SEALED_LENGTH || entry.chars > limits.chars || kept.has(token)) return
    chars += entry.chars
    kept.set(token, entry)
    while (kept.size > limits.tokens || chars > limits.chars) drop(kept.keys().next().value!)
  }

  function drop(token: string): void {
    chars -= kept.get(token)!.chars
    kept.delete(token)
  }

  function decode(key: KeyEntry, payload: string): OpenedSession | null {
    const unsealed = decodePayload(payload, classOf)
    if (unsealed === null) return null
    const { record } = unsealed
    deepFreeze(record)
    const snapshot = readOnly(snapshotData(record.data))
    return Object.freeze({ ok: true, key, unsealed: Object.freeze(unsealed), snapshot })
  }

  function open(token: string): OpenedResult {
    // The length cap first, as openSeal has it: nothing kept answers for a token it refuses.
    if (typeof token !== 'string' || token.length > MAX_SEALED_LENGTH) return MALFORMED
    const hit = kept.get(token)
    if (hit !== undefined) {
      if (hit.opened === null) hit.opened = decode(hit.key, hit.payload)
      if (hit.opened !== null) return hit.opened
      // A payload this manager sealed decodes; should one not, it is refused as when opened.
      drop(token)
      return MALFORMED
    }
    const result = openSeal(token, keys)
    if (!result.ok) return result
    const payload = result.payload.toString('utf8')
    const opened = decode(result.key, payload)
    if (opened === null) return MALFORMED
    // A copy: the token is a slice of the Cookie header, which it would keep alive.
    keep(ownCopy(token), { key: result.key, payload, chars: token.length + payload.length, opened })
    return opened
  }

  function remember(token: string, key: KeyEntry, payload: string): void {
    keep(token, { key, payload, chars: token.length + payload.length, opened: null })
  }

  return { open, remember }
}

const MALFORMED = Object.freeze({ ok: false, reason: 'malformed' } as const)

/** Freezes `value` and every object and array in it (JSON data: no cycles). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  for (const v of Object.values(value)) deepFreeze(v)
  Object.freeze(value)
}

function refuse(): never {
  throw new TypeError('a kept session snapshot is read only')
}

/** `snapshot`, its writing methods refusing: it is shared by every request sending the token. */
function readOnly(snapshot: Map<string, string>): DataSnapshot {
  const refused = { value: refuse, enumerable: false }
  Object.defineProperties(snapshot, { set: refused, delete: refused, clear: refused })
  return Object.freeze(snapshot)
}
