import { EventEmitter } from 'node:events'
import { Cookie } from '../../http/cookie.js'
import type { Callback, ExpressSessionData, ExpressStoreLike } from '../../stores/compat.js'

/**
 * express-session's abstract `Store`, for third-party stores written against it (connect-redis,
 * connect-mongo, ...). Tether wraps such a store with `fromExpressSessionStore` automatically.
 * A plain constructor function, because such stores call `Store.call(this)` (util.inherits style).
 */
export interface Store extends EventEmitter {
  /** Loads a session by id into a plain session object (express-session API). */
  load(sid: string, fn: Callback<Record<string, unknown>>): void
  /** express-session API: turns stored JSON back into an object with a `Cookie`. */
  createSession(req: Record<string, unknown>, sess: ExpressSessionData): Record<string, unknown>
  /** express-session API: destroys the request's session; Tether's middleware does not call it. */
  regenerate(req: { sessionID: string }, fn: Callback): void
}

export interface StoreConstructor {
  new (): Store
  (this: Store): void
  prototype: Store
}

export const Store = function Store(this: Store) {
  EventEmitter.call(this)
} as unknown as StoreConstructor
Object.setPrototypeOf(Store.prototype, EventEmitter.prototype)

Store.prototype.load = function load(this: Store, sid, fn) {
  ;(this as unknown as ExpressStoreLike).get(sid, (err, sess) => {
    if (err) return fn(err)
    if (!sess) return fn()
    fn(null, this.createSession({ sessionID: sid, sessionStore: this }, sess))
  })
}

Store.prototype.createSession = function createSession(req, sess) {
  const { expires, originalMaxAge } = sess.cookie
  const cookie = new Cookie(sess.cookie)
  if (typeof expires === 'string') cookie.expires = new Date(expires)
  cookie.originalMaxAge = originalMaxAge ?? null
  const out = { ...sess, cookie }
  req['session'] = out
  return out
}

Store.prototype.regenerate = function regenerate(this: Store, req, fn) {
  ;(this as unknown as ExpressStoreLike).destroy(req.sessionID, fn)
}

interface Entry {
  json: string
  expiresAt: number
}

/**
 * express-session's `MemoryStore` API (callbacks; `all`, `length`, `clear`), bounded: at most
 * `maxEntries` sessions, least recently used evicted first, expired ones swept by an unref'd timer.
 * For one process and tests only; use SqliteStore, RedisStore or PostgresStore in production.
 */
export class MemoryStore extends Store {
  private readonly sessions = new Map<string, Entry>()
  private readonly maxEntries: number
  private readonly timer: NodeJS.Timeout

  constructor(options: { maxEntries?: number; sweepIntervalMs?: number } = {}) {
    super()
    this.maxEntries = options.maxEntries ?? 10_000
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000)
    this.timer.unref()
  }

  /** Reads a session (express-session API). */
  get(sid: string, cb: Callback<ExpressSessionData | null>): void {
    const sess = this.read(sid)
    setImmediate(cb, null, sess)
  }

  /** Writes a session (express-session API). */
  set(sid: string, sess: ExpressSessionData, cb?: Callback): void {
    const expires = sess.cookie?.expires
    this.sessions.delete(sid)
    this.sessions.set(sid, {
      json: JSON.stringify(sess),
      expiresAt: expires ? new Date(expires).getTime() : Infinity,
    })
    if (this.sessions.size > this.maxEntries)
      this.sessions.delete(this.sessions.keys().next().value!)
    if (cb) setImmediate(cb, null)
  }

  /** Removes a session (express-session API). */
  destroy(sid: string, cb?: Callback): void {
    this.sessions.delete(sid)
    if (cb) setImmediate(cb, null)
  }

  /** Refreshes a session's expiry (express-session calls it for unmodified sessions). */
  touch(sid: string, sess: ExpressSessionData, cb?: Callback): void {
    const current = this.read(sid)
    if (current) this.set(sid, { ...current, cookie: sess.cookie })
    if (cb) setImmediate(cb, null)
  }

  /** Every live session, by key. */
  all(cb: Callback<Record<string, ExpressSessionData>>): void {
    const out: Record<string, ExpressSessionData> = Object.create(null) as Record<
      string,
      ExpressSessionData
    >
    for (const sid of [...this.sessions.keys()]) {
      const sess = this.read(sid)
      if (sess) out[sid] = sess
    }
    setImmediate(cb, null, out)
  }

  /** Number of live sessions. */
  length(cb: Callback<number>): void {
    this.all((err, all) => cb(err, all ? Object.keys(all).length : 0))
  }

  /** Removes every session. */
  clear(cb?: Callback): void {
    this.sessions.clear()
    if (cb) setImmediate(cb, null)
  }

  /** Stops the sweep timer. */
  close(): void {
    clearInterval(this.timer)
  }

  private read(sid: string): ExpressSessionData | null {
    const entry = this.sessions.get(sid)
    if (!entry) return null
    if (Date.now() >= entry.expiresAt) {
      this.sessions.delete(sid)
      return null
    }
    this.sessions.delete(sid)
    this.sessions.set(sid, entry)
    return JSON.parse(entry.json) as ExpressSessionData
  }

  private sweep(): void {
    const now = Date.now()
    for (const [sid, entry] of this.sessions) if (now >= entry.expiresAt) this.sessions.delete(sid)
  }
}
