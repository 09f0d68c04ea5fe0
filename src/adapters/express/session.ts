import type { IncomingMessage } from 'node:http'
import type { Cookie } from './cookie.js'
import type { RequestState } from './request-state.js'

type Done = (err?: unknown) => void

/** Where a Session keeps its link to the request's state (a symbol: never in Object.keys, never stored). */
export const STATE = Symbol('tether-session.state')

/**
 * Runs `work`; with a callback reports to it and returns `self` (express-session's chaining),
 * without one returns the promise. The promise is marked handled, so a forgotten
 * `req.session.save()` without callback or await cannot crash the process.
 */
function settle<T>(self: Session, work: Promise<T>, cb: Done | undefined): Session | Promise<T> {
  if (typeof cb === 'function') {
    work.then(() => cb(), cb)
    return self
  }
  work.catch(function ignoreHere() {})
  return work
}

/**
 * `req.session`: application data as own properties (as in express-session) plus the methods
 * below. Constructed with `(req, data)` like express-session's Session.
 */
export class Session {
  declare cookie: Cookie;
  declare [STATE]: RequestState | undefined

  constructor(req: IncomingMessage, data?: Record<string, unknown>) {
    Object.defineProperty(this, 'req', { value: req })
    if (typeof data === 'object' && data !== null) assignData(this, data)
  }

  /** The session id (what the signed cookie carries). Changes on `regenerate` and `login`. */
  get id(): string {
    const state = this[STATE]
    return state
      ? state.session.id
      : (this as unknown as { req: { sessionID: string } }).req.sessionID
  }

  /** This session's opaque reference, as `manager.listUserSessions` lists it (not the id). */
  get ref(): string {
    return stateOf(this).session.ref
  }

  /** Milliseconds since the user last authenticated (`login`), or null for an anonymous session. */
  get authAge(): number | null {
    const state = this[STATE]
    const authAt = state?.session.record.authAt
    if (state === undefined || authAt === undefined || state.session.stepUpRequired === true)
      return null
    return state.now() - authAt
  }

  /** Resets the cookie's lifetime to its original maxAge (express-session API). */
  touch(): this {
    return this.resetMaxAge()
  }

  /** Same as `touch()`. */
  resetMaxAge(): this {
    this.cookie.maxAge = this.cookie.originalMaxAge
    return this
  }

  /** Writes the session to the store now. */
  save(cb: Done): this
  save(): Promise<void>
  save(cb?: Done): Session | Promise<void> {
    return settle(this, stateOf(this).save(this), cb)
  }

  /** Re-reads the session from the store, replacing `req.session`. Errors if it is gone. */
  reload(cb: Done): this
  reload(): Promise<void>
  reload(cb?: Done): Session | Promise<void> {
    return settle(this, stateOf(this).reload(), cb)
  }

  /** Removes the session from the store and from the request. */
  destroy(cb: Done): this
  destroy(): Promise<void>
  destroy(cb?: Done): Session | Promise<void> {
    return settle(this, stateOf(this).destroy(), cb)
  }

  /** Replaces the session with a new, empty one under a new id; the old one is removed. */
  regenerate(cb: Done): this
  regenerate(): Promise<void>
  regenerate(cb?: Done): Session | Promise<void> {
    return settle(this, stateOf(this).regenerate(), cb)
  }

  /**
   * Logs `userId` in: a new session id (no fixation), the data kept, `authAt` set, and the
   * session listed under the user. Call it instead of setting `req.session.userId` yourself.
   */
  login(userId: string, opts: { class?: string } = {}): Promise<void> {
    return stateOf(this).login(userId, opts)
  }

  /**
   * Ends the session (store and cookie); `req.session` becomes a new empty session.
   * With `clearSiteData`, the response also carries `Clear-Site-Data: "cache", "cookies", "storage"`.
   */
  logout(opts: { clearSiteData?: boolean } = {}): Promise<void> {
    return stateOf(this).logout(opts)
  }

  /**
   * Records that the user just re-entered their password (step-up): `authAt` becomes now, so
   * `requireFreshAuth` lets them through again. Like `login()`, it gives the session a new id and
   * ends the old one (the response carries the new cookie; `req.sessionID` changes), keeping the
   * data, user, class, creation time and CSRF token. Rejects for an anonymous session.
   */
  reauthenticated(): Promise<void> {
    return stateOf(this).reauthenticated()
  }

  /**
   * Atomic read-modify-write: `fn` gets the stored data (mutate it or return a new object);
   * retried on a version conflict, so concurrent counters and carts lose nothing.
   */
  update(
    fn: (
      data: Record<string, unknown>,
    ) => void | Record<string, unknown> | Promise<void | Record<string, unknown>>,
  ): Promise<void> {
    return stateOf(this).update(this, fn)
  }
}

/**
 * Puts data on a session as own properties. A key the session already has (its methods, `id`,
 * `cookie`, Object.prototype's names, a stored `__proto__`) is skipped: data never replaces a
 * method or the prototype. Tether refuses such keys when set; older stored data may hold them.
 */
export function assignData(session: Session, data: Record<string, unknown>): void {
  for (const prop of Object.keys(data)) {
    if (!(prop in session)) (session as unknown as Record<string, unknown>)[prop] = data[prop]
  }
}

function stateOf(session: Session): RequestState {
  const state = session[STATE]
  if (state === undefined)
    throw new Error('this session is not attached to a request handled by tether-session')
  return state
}
