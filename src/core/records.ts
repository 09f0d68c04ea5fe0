import { TetherError } from '../errors.js'
import type { SessionRecord } from '../stores/types.js'
import type { ClassPolicy, ResolvedOptions } from './options.js'

/** The rules every part of the manager shares about a session record and its class. */

/** When a session idle from `now` on expires. */
export function idleExpiry(now: number, cls: ClassPolicy): number {
  // touchAfter of slack (at most idleTimeout / 10): a session touched lazily is never expired
  // before idleTimeout of real idleness, nor kept past idleTimeout + 10 %.
  return now + cls.idleTimeoutMs + cls.touchAfterMs
}

/** The class a record belongs to (the default one for a class no longer configured). */
export function classOf(
  opts: Pick<ResolvedOptions, 'classes'>,
  record: { sessionClass: string },
): ClassPolicy {
  return opts.classes.get(record.sessionClass) ?? opts.classes.get('default')!
}

/** A new record of class `cls`, created `now`, holding `data`. */
export function newRecord(
  now: number,
  cls: ClassPolicy,
  data: Record<string, unknown>,
): SessionRecord {
  return {
    v: 1,
    data,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: idleExpiry(now, cls),
    absoluteExpiresAt: now + cls.absoluteTimeoutMs,
    sessionClass: cls.name,
    meta: {},
  }
}

/** Refuses session data over `maxSessionBytes`. */
export function assertSize(opts: ResolvedOptions, size: number): void {
  if (size > opts.maxSessionBytes) {
    throw new TetherError(
      'TETHER_SESSION_TOO_LARGE',
      `session data is about ${size} bytes, over "maxSessionBytes" (${opts.maxSessionBytes}); keep large data elsewhere`,
    )
  }
}

/** The id of this record is due for renewal. */
export function renewalDue(opts: ResolvedOptions, record: SessionRecord, now: number): boolean {
  return (
    opts.renewAfterMs !== null && now - (record.renewedAt ?? record.createdAt) >= opts.renewAfterMs
  )
}

/**
 * The record as a request sees it after a write its store answered with version `v`. When the
 * store wrote `next` as it was (`v` is next's own), that is the stored record at `v`. When it
 * merged another request's write in (a later `v`), this copy lacks that write: it keeps the version
 * it was computed from, so no later patch of this request passes it off as the stored record
 * (Memory and SQLite write a patch's `next` as is when the stored version is `next.v - 1`).
 */
export function asWritten(next: SessionRecord, v: number): SessionRecord {
  return v === next.v ? next : { ...next, v: next.v - 1 }
}
