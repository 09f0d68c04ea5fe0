/**
 * The Store contract. Every Tether store (Memory, SQLite, Redis, PostgreSQL) implements it and
 * passes the one conformance suite in test/stores/conformance.ts. Keys are session references
 * (a hash of the session id), never the id itself.
 */

/** Times of a session, all epoch milliseconds. */
export interface SessionTimes {
  /** Last request that touched the store. */
  lastSeenAt: number
  /** Expiry if no further activity: lastSeenAt + idle timeout. */
  idleExpiresAt: number
}

/** Cookie attributes a session chose for itself at run time (express-session's `req.session.cookie`). */
export interface StoredCookie {
  /** Max-Age in ms the application set; null for a browser-session cookie. */
  originalMaxAge: number | null
  /** Absolute expiry the application set, epoch ms; null when it follows maxAge or the browser session. */
  expiresAt?: number | null
  [attribute: string]: unknown
}

/** What a store keeps for one session. */
export interface SessionRecord {
  /** Version: 1 at creation, incremented by every write that changes data or fields. */
  v: number
  /** Application data (express-session's `req.session.*`): JSON-serialisable. */
  data: Record<string, unknown>
  /** Owner, set by `login`. Absent for anonymous sessions. */
  userId?: string
  createdAt: number
  lastSeenAt: number
  /** When the user last proved who they are (login, re-authentication). */
  authAt?: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  /** Session class (`default`, or e.g. `admin`), which picks keyring and timeouts. */
  sessionClass: string
  /** Context recorded at login: user agent and IP prefix (never a full IP). */
  meta: { ua?: string; ipPrefix?: string }
  /** Per-session cookie attributes, when the application changed them. */
  cookie?: StoredCookie
  /**
   * Reference of the id the session had when it was created or logged in. Renewals keep it, so
   * what belongs to the session rather than to one id (its CSRF token) survives them.
   */
  originRef?: string
  /** When the current id was issued by a renewal (absent: at creation). */
  renewedAt?: number
  /** Set by a renewal until a request presents the new id itself. */
  unconfirmed?: boolean
  /**
   * Set on a renewal marker only (stored under a key no session has): the key of the session this
   * one was renewed into.
   */
  rotatedTo?: string
  /** On a renewal marker: until when the renewed-out id is still honoured. */
  graceUntil?: number
}

/** Record fields other than `data`, `v` and the times that a commit may change. */
export type SessionFields = {
  /** `undefined` clears the field (the session no longer belongs to a user). */
  userId?: string | undefined
  authAt?: number
  meta?: SessionRecord['meta']
  cookie?: StoredCookie
  /** `undefined` clears it: the renewed id has been presented. */
  unconfirmed?: boolean | undefined
}

/**
 * A change to one session, as computed by the manager from what the request did.
 * Stores that merge atomically use `set`/`unset`/`fields`/`times`; a store that cannot (a wrapped
 * express-session store) writes `next`, the full record the manager expects after the change.
 */
export interface SessionPatch {
  /** Top-level data keys whose value changed, with their new values. */
  set: Record<string, unknown>
  /** Top-level data keys the request deleted. */
  unset: string[]
  /** Record fields that changed. */
  fields: SessionFields
  times: SessionTimes
  /**
   * The whole record after the change: `applyPatch(loaded, patch)`, where `loaded` is the record
   * the change was computed from, at version `next.v - 1`. A store may write `next` as is when
   * the stored version is still `next.v - 1` (nothing changed the record since; every write moves
   * the version), and must merge otherwise.
   */
  next: SessionRecord
}

/** A patch without its `next`: what {@link applyPatch} reads. */
export type SessionChange = Omit<SessionPatch, 'next'>

export type UpdateResult =
  /**
   * The new version (the stored v after the merge). Only the version: the caller already knows
   * what it wrote, and a store need not send the whole record back on every write.
   */
  | { ok: true; v: number }
  /** `missing`: no such (live) session. `conflict`: `ifVersion` was given and did not match. */
  | { ok: false; reason: 'missing' | 'conflict' }

/** A session as listed for its user. */
export interface UserSessionEntry {
  key: string
  record: SessionRecord
}

/** What a create past `maxPerUser` does: evict the user's oldest sessions, or refuse the new one. */
export type SessionLimitPolicy = 'evict-oldest' | 'refuse'

export interface CreateOptions {
  /**
   * Keep at most this many live sessions for `record.userId`, evicting the oldest (by createdAt):
   * the user's index never lists more than this, even under concurrent logins. The new session is
   * never evicted.
   */
  maxPerUser?: number
  /**
   * With `maxPerUser`: `'refuse'` rejects the create with `TETHER_SESSION_LIMIT` (writing and
   * evicting nothing) when the user already holds `maxPerUser` live sessions, decided in the same
   * atomic step as the insert, so concurrent creates never pass the cap.
   * @default 'evict-oldest'
   */
  onLimit?: SessionLimitPolicy
}

/**
 * Optional store capability: small "not before" marks. A mark on `scope` says that whatever the
 * scope covers and was created before `at` (epoch ms) is no longer valid. Scope `'*'` is every
 * session of every user (`revokeAllSessions()`); other scopes are free strings, kept apart from
 * each other and from session keys (e.g. a later per-user mark for sealed sessions, or one
 * session's). Stores without it refuse `revokeAllSessions()`.
 */
export interface NotBeforeMarks {
  /** The mark of `scope`, or null when there is none or it has expired (by the store's clock). */
  getNotBefore(scope: string): Promise<number | null>
  /**
   * Sets the mark of `scope` to `at`, unless a live mark is already later: a write never moves a
   * mark backwards, and its expiry only moves later. The store may drop the mark after
   * `expiresAt`, once nothing it covers can still be alive.
   */
  setNotBefore(scope: string, at: number, expiresAt: number): Promise<void>
}

/**
 * The Store contract. All methods are async, and a failure rejects (the manager turns it into
 * `TETHER_STORE_UNAVAILABLE`). A record is live while `now < min(idleExpiresAt, absoluteExpiresAt)`
 * by the store's clock; a store never returns or lists a record that is not live.
 */
export interface SessionStore extends Partial<NotBeforeMarks> {
  /** Brand: tells adapters this is a Tether store, not an express-session one. Always `1`. */
  readonly tetherStore: 1
  /** The live record under `key`, or null. */
  get(key: string): Promise<SessionRecord | null>
  /**
   * Inserts a new record (v is 1) and indexes it under its userId. Rejects with a `TetherError`
   * `TETHER_SESSION_ID_IN_USE` when a live session holds the key (changing nothing, evicting
   * nothing); replaces an expired one. Times are whole epoch milliseconds. Rejects with a
   * `TETHER_SESSION_LIMIT` TetherError when `onLimit` is `'refuse'` and the user is at the cap.
   * @returns keys of sessions evicted because of `maxPerUser`.
   */
  create(key: string, record: SessionRecord, options?: CreateOptions): Promise<string[]>
  /**
   * Merges `patch` into the live record atomically: data keys in `set` are replaced, keys in
   * `unset` deleted, other keys kept (so two requests changing different keys both persist);
   * `fields` and `times` are assigned; v is incremented. With `ifVersion`, the write happens only if
   * the stored v equals it (read-modify-write). A changed userId moves the record in the user index.
   */
  update(key: string, patch: SessionPatch, options?: { ifVersion?: number }): Promise<UpdateResult>
  /** Extends a live session's idle expiry without changing data or version. False if missing. */
  touch(key: string, times: SessionTimes): Promise<boolean>
  /** Removes the record, then its index entry. Missing keys are not an error. */
  destroy(key: string): Promise<void>
  /** Live sessions of `userId`, oldest first (by createdAt, ties in insertion order). */
  listByUser(userId: string): Promise<UserSessionEntry[]>
  /** Removes every session of `userId` except `except`; returns the keys of the removed live sessions. */
  destroyByUser(userId: string, options?: { except?: string }): Promise<string[]>
  /**
   * False for stores whose writes are whole records, unconditional and not atomic (a wrapped
   * express-session store): `update` may recreate a missing record and `ifVersion` can race.
   * Session renewal needs atomic writes and is off on such stores. @default true
   */
  readonly atomicWrites?: boolean
  /** False for stores without a per-user index (a wrapped express-session store). @default true */
  readonly userIndex?: boolean
  /** Releases timers and statements the store owns (never closes a client the user passed in). */
  close?(): Promise<void>
}

/** Earliest expiry of a record: the instant it stops being live. */
export function expiresAt(
  record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>,
): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt)
}

/**
 * The patch of `change` computed from `loaded`: its `next` is the change applied to that record,
 * as {@link SessionPatch.next} promises. The one way the manager builds a patch.
 */
export function patchFrom(loaded: SessionRecord, change: SessionChange): SessionPatch {
  return { ...change, next: applyPatch(loaded, change) }
}

/** Applies a patch to a record the way every store must (used by Memory and SQLite). */
export function applyPatch(record: SessionRecord, patch: SessionChange): SessionRecord {
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const k of Object.keys(record.data)) data[k] = record.data[k]
  for (const k of patch.unset) delete data[k]
  for (const k of Object.keys(patch.set)) data[k] = patch.set[k]
  const { userId, unconfirmed, ...fields } = patch.fields
  const next: SessionRecord = {
    ...record,
    ...fields,
    data,
    lastSeenAt: patch.times.lastSeenAt,
    idleExpiresAt: patch.times.idleExpiresAt,
    v: record.v + 1,
  }
  if (userId !== undefined) next.userId = userId
  else if ('userId' in patch.fields) delete next.userId
  if (unconfirmed !== undefined) next.unconfirmed = unconfirmed
  else if ('unconfirmed' in patch.fields) delete next.unconfirmed
  return next
}
