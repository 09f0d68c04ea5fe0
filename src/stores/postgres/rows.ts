/** Mapping between records and the parameters and rows of the statements in sql.ts. */
import { expiresAt } from '../types.js'
import type { SessionPatch, SessionRecord } from '../types.js'
import { decodeJson, encodeJson, encodeText } from './jsonb.js'

/** A row as read: JSON columns come back as text, decoded by {@link decodeJson}. */
export interface RecordRow {
  v: number
  data: string
  record: string
}

/** Parameters $1..$8 of the insert statements. */
export function toInsertValues(key: string, record: SessionRecord, now: number): unknown[] {
  const { v, data, userId, createdAt, ...rest } = record
  const fields = userId === undefined ? { createdAt, ...rest } : { userId, createdAt, ...rest }
  const user = userId === undefined ? null : encodeText(userId)
  return [key, user, v, createdAt, expiresAt(record), encodeJson(data), encodeJson(fields), now]
}

/** Parameters $1..$10 of the update statement. */
export function toUpdateValues(
  key: string,
  patch: SessionPatch,
  ifVersion: number | null,
  now: number,
): unknown[] {
  const unset = [...patch.unset]
  // JSON drops undefined values, so a key set to undefined is deleted, as in applyPatch + JSON.
  for (const k of Object.keys(patch.set)) if (patch.set[k] === undefined) unset.push(k)
  const fields: Record<string, unknown> = { ...patch.fields, ...patch.times }
  const cleared: string[] = []
  for (const k of Object.keys(fields)) if (fields[k] === undefined) cleared.push(k)
  const hasUserId = 'userId' in patch.fields
  const { userId } = patch.fields
  return [
    key,
    now,
    ifVersion,
    unset.map(encodeText),
    encodeJson(patch.set),
    cleared,
    encodeJson(fields),
    hasUserId,
    userId === undefined ? null : encodeText(userId),
    patch.times.idleExpiresAt,
  ]
}

/** The record a row holds: `record` with its `v` and `data` columns put back. */
export function toRecord(row: RecordRow): SessionRecord {
  const record = decodeJson<SessionRecord>(row.record)
  record.v = row.v
  record.data = decodeJson<Record<string, unknown>>(row.data)
  return record
}
