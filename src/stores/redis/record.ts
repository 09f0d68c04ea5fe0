/** How a SessionRecord maps to the fields of its Redis hash (layout in record-scripts.ts). */
import { expiresAt } from '../types.js'
import type { SessionPatch, SessionRecord } from '../types.js'

/** Hash field of a top-level data key: JSON-quoted, so any string (even `__proto__`) is safe. */
function dataField(name: string): string {
  return `d${JSON.stringify(name)}`
}

/** Hash field of a record field other than `v` and `data`. */
function recordField(name: string): string {
  return `f${JSON.stringify(name)}`
}

/** Field/value pairs of a new record: `v`, `exp`, `ix` (if given) and one per field and data key. */
export function recordPairs(record: SessionRecord, ix: string): string[] {
  const pairs = ['v', String(record.v), 'exp', String(expiresAt(record))]
  if (ix !== '') pairs.push('ix', ix)
  for (const [name, value] of Object.entries(record)) {
    if (name === 'v' || name === 'data') continue
    const json = JSON.stringify(value)
    if (json !== undefined) pairs.push(recordField(name), json)
  }
  for (const name of Object.keys(record.data)) {
    const json = JSON.stringify(record.data[name])
    if (json !== undefined) pairs.push(dataField(name), json)
  }
  return pairs
}

/** The fields UPDATE deletes and the field/value pairs it sets, as applyPatch would change them. */
export function patchFields(patch: SessionPatch): { deletes: string[]; sets: string[] } {
  const deletes = patch.unset.map(dataField)
  const sets: string[] = []
  // JSON drops undefined, so a key set to undefined ends up deleted, as in Memory and SQLite.
  function put(field: string, value: unknown): void {
    const json = JSON.stringify(value)
    if (json === undefined) deletes.push(field)
    else sets.push(field, json)
  }
  for (const name of Object.keys(patch.set)) put(dataField(name), patch.set[name])
  for (const [name, value] of Object.entries(patch.fields)) {
    if (name !== 'v' && name !== 'data') put(recordField(name), value)
  }
  put(recordField('lastSeenAt'), patch.times.lastSeenAt)
  put(recordField('idleExpiresAt'), patch.times.idleExpiresAt)
  return { deletes, sets }
}

/** Rebuilds a record from a flat field/value reply starting at `from`; other fields are skipped. */
export function parseRecord(reply: readonly string[], from = 0): SessionRecord {
  let version: string | undefined
  const fields: string[] = []
  const data: string[] = []
  for (let i = from; i + 1 < reply.length; i += 2) {
    const field = reply[i] as string
    const value = reply[i + 1] as string
    if (field === 'v') version = value
    else if (field.startsWith('f"')) fields.push(`${field.slice(1)}:${value}`)
    else if (field.startsWith('d"')) data.push(`${field.slice(1)}:${value}`)
  }
  if (version === undefined) throw new Error('RedisStore: a session hash has no version field')
  // One JSON.parse of text we wrote: it defines `__proto__` as an own key and returns a copy no
  // caller shares with another.
  const json = `{"v":${version},${fields.map(withComma).join('')}"data":{${data.join(',')}}}`
  return JSON.parse(json) as SessionRecord
}

function withComma(member: string): string {
  return `${member},`
}

/** A reply as an array of strings (Buffers as UTF-8, nil as ''); throws on any other shape. */
export function toStrings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new Error('RedisStore: expected an array reply from Redis')
  return reply.map(function toText(item: unknown) {
    if (typeof item === 'string') return item
    if (item === null) return ''
    if (typeof item === 'number') return String(item)
    if (Buffer.isBuffer(item)) return item.toString('utf8')
    throw new Error('RedisStore: unexpected item in a reply from Redis')
  })
}
