import { TetherError } from '../errors.js'
import {
  expiresAt,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
  type SessionTimes,
  type UpdateResult,
} from './types.js'

/** Node-style callback of the express-session store API. */
export type Callback<T = void> = (err?: unknown, value?: T) => void

/** The part of the express-session store API Tether calls. `touch` is optional, as there. */
export interface ExpressStoreLike {
  get(sid: string, cb: Callback<ExpressSessionData | null>): void
  set(sid: string, sess: ExpressSessionData, cb: Callback): void
  destroy(sid: string, cb: Callback): void
  touch?(sid: string, sess: ExpressSessionData, cb: Callback): void
  on?(event: string, listener: (...args: unknown[]) => void): unknown
}

/** A session as express-session stores hand it around: data plus a `cookie` object. */
export interface ExpressSessionData {
  cookie: Record<string, unknown> & {
    expires?: string | Date | null
    originalMaxAge?: number | null
  }
  [key: string]: unknown
}

/**
 * Wraps any express-session store (connect-redis, connect-mongo, connect-pg-simple, ...) as a
 * Tether store. Keys are still hashed and timeouts enforced, but such a store cannot merge
 * concurrent writes atomically (the last whole-record write wins, as with express-session) and has
 * no per-user index (`listUserSessions`, `revokeUserSessions`, `maxSessionsPerUser` are refused).
 *
 * The stored value is express-session-shaped, `{ cookie: { expires, originalMaxAge }, tether: record }`,
 * so stores that derive their TTL from `cookie.expires` expire it at the right time.
 */
export function fromExpressSessionStore(store: ExpressStoreLike): SessionStore {
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.destroy !== 'function'
  ) {
    throw new TetherError(
      'TETHER_INVALID_OPTION',
      '"store" must be a Tether store or an express-session store with get, set and destroy methods',
    )
  }

  function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
    return new Promise(function settle(resolve, reject) {
      fn(function done(err, value) {
        if (err)
          reject(
            err instanceof Error ? err : new Error('express-session store failed', { cause: err }),
          )
        else resolve(value)
      })
    })
  }

  async function get(key: string): Promise<SessionRecord | null> {
    const sess = await call<ExpressSessionData | null>((cb) => store.get(key, cb))
    const record = toRecord(sess)
    if (record === null || Date.now() < expiresAt(record)) return record
    // Expired, and the store kept it (many have no TTL): removed, best effort, as the manager
    // removes an idle-expired session it meets.
    await call((cb) => store.destroy(key, cb)).catch(function keepGoing() {})
    return null
  }

  function write(key: string, record: SessionRecord): Promise<unknown> {
    return call((cb) => store.set(key, toExpress(record), cb))
  }

  async function update(
    key: string,
    patch: SessionPatch,
    options: { ifVersion?: number } = {},
  ): Promise<UpdateResult> {
    if (options.ifVersion !== undefined) {
      // Not atomic: another writer can slip in between this read and the write below.
      const current = await get(key)
      if (current === null) return { ok: false, reason: 'missing' }
      if (current.v !== options.ifVersion) return { ok: false, reason: 'conflict' }
    }
    await write(key, patch.next)
    return { ok: true, v: patch.next.v }
  }

  async function touch(key: string, times: SessionTimes): Promise<boolean> {
    // The stored record, read afresh, written back with the new times. Not the store's touch():
    // most only move their own expiry (connect-redis), which leaves the record's idle expiry
    // behind, so a session used read-only expired. Not the request's copy either: that would
    // undo a write another request made since this one loaded the session.
    const live = await get(key)
    if (live === null) return false
    await write(key, { ...live, ...times })
    return true
  }

  function unsupported(): never {
    throw new TetherError(
      'TETHER_NOT_SUPPORTED',
      'a wrapped express-session store has no per-user index; use SqliteStore, RedisStore or PostgresStore',
    )
  }

  return {
    tetherStore: 1,
    userIndex: false,
    atomicWrites: false,
    get,
    async create(key, record) {
      await write(key, record)
      return []
    },
    update,
    touch,
    async destroy(key) {
      await call((cb) => store.destroy(key, cb))
    },
    listByUser: unsupported,
    destroyByUser: unsupported,
  }
}

function toExpress(record: SessionRecord): ExpressSessionData {
  const expires = new Date(expiresAt(record)).toISOString()
  return {
    cookie: { originalMaxAge: expiresAt(record) - record.lastSeenAt, expires },
    tether: record,
  }
}

function toRecord(sess: ExpressSessionData | null | undefined): SessionRecord | null {
  const record = sess?.['tether'] as SessionRecord | undefined
  // Sessions written by express-session itself (no `tether` field) are not ours to read.
  if (typeof record !== 'object' || record === null || typeof record.v !== 'number') return null
  if (typeof record.data !== 'object' || record.data === null) return null
  return record
}
