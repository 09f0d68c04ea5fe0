import type { IncomingMessage } from 'node:http'
import { copyData, SessionObject, STATE } from '../../http/session-object.js'

type Done = (err?: unknown) => void

/**
 * Runs `work`; with a callback reports to it and returns `self` (express-session's chaining),
 * without one returns the promise (already marked handled by the session object).
 */
function settle<T>(self: Session, work: Promise<T>, cb: Done | undefined): Session | Promise<T> {
  if (typeof cb !== 'function') return work
  work.then(() => cb(), cb)
  return self
}

/**
 * `req.session`: express-session's Session. Application data as own properties plus the methods
 * below; each takes a callback or, without one, returns a promise. Constructed with `(req, data)`
 * like express-session's.
 */
export class Session extends SessionObject {
  // A private field, not a defined property: as express-session's `req`, never enumerated as data.
  readonly #req: IncomingMessage

  constructor(req: IncomingMessage, data?: Record<string, unknown>) {
    super()
    this.#req = req
    copyData(this, data)
  }

  /** The request this session belongs to (express-session's non-enumerable `req`). */
  get req(): IncomingMessage {
    return this.#req
  }

  /** The session id (what the signed cookie carries). Changes on `regenerate`, `login` and renewal. */
  override get id(): string {
    const state = this[STATE]
    return state ? state.session.id : (this.#req as { sessionID?: string }).sessionID!
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
  override save(cb: Done): this
  override save(): Promise<void>
  override save(cb?: Done): Session | Promise<void> {
    return settle(this, super.save(), cb)
  }

  /** Re-reads the session from the store, replacing `req.session`. Errors if it is gone. */
  override reload(cb: Done): this
  override reload(): Promise<void>
  override reload(cb?: Done): Session | Promise<void> {
    return settle(this, super.reload(), cb)
  }

  /** Removes the session from the store and from the request. */
  override destroy(cb: Done): this
  override destroy(): Promise<void>
  override destroy(cb?: Done): Session | Promise<void> {
    return settle(this, super.destroy(), cb)
  }

  /** Replaces the session with a new, empty one under a new id; the old one is removed. */
  override regenerate(cb: Done): this
  override regenerate(): Promise<void>
  override regenerate(cb?: Done): Session | Promise<void> {
    return settle(this, super.regenerate(), cb)
  }
}
