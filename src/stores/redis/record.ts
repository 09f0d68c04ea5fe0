/** How a SessionRecord maps to the fields of its Redis hash (layout in record-scripts.ts). */
import { expiresAt } from '../types.js'
import type { RedisLike } from './client.js'
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

/**
 * The session hash under `key` as flat field/value pairs ([] when there is none): one plain
 * HGETALL, with no script around it. Liveness is then decided here, by {@link parseLiveRecord}.
 */
export async function readHash(redis: RedisLike, key: string): Promise<string[]> {
  return toStrings(await redis.send(key, ['HGETALL', key]))
}

/**
 * Rebuilds the record from a session hash's pairs, or null when it is not live at `now` (no hash,
 * a tombstone, or its `exp` passed: Redis's TTL only frees memory, the injected clock decides).
 */
export function parseLiveRecord(pairs: readonly string[], now: number): SessionRecord | null {
  let version: string | undefined
  let exp = Number.NaN
  const fields: string[] = []
  const data: string[] = []
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const field = pairs[i] as string
    const value = pairs[i + 1] as string
    if (field.startsWith('d"')) data.push(`${field.slice(1)}:${value}`)
    else if (field.startsWith('f"')) fields.push(`${field.slice(1)}:${value}`)
    else if (field === 'v') version = value
    else if (field === 'exp') exp = Number(value)
  }
  if (!(exp > now) || version === undefined) return null
  // One JSON.parse of text we wrote: it defines `__proto__` as an own key and returns a copy no
  // caller shares with another.
  const json = `{"v":${version},${fields.map(withComma).join('')}"data":{${data.join(',')}}}`
  return JSON.parse(json) as SessionRecord
}

function withComma(member: string): string {
  return `${member},`
}

/**
 * A reply as an array of strings (Buffers as UTF-8, nil as ''); a map reply (RESP3) as its flat
 * key/value pairs; throws on any other shape.
 */
export function toStrings(reply: unknown): string[] {
  if (reply instanceof Map) reply = [...(reply as Map<unknown, unknown>)].flat()
  else if (isPlainObject(reply)) reply = Object.entries(reply).flat()
  if (!Array.isArray(reply)) throw new Error('RedisStore: expected an array reply from Redis')
  return reply.map(function toText(item: unknown) {
    if (typeof item === 'string') return item
    if (item === null) return ''
    if (typeof item === 'number') return String(item)
    if (Buffer.isBuffer(item)) return item.toString('utf8')
    throw new Error('RedisStore: unexpected item in a reply from Redis')
  })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}
