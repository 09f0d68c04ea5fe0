import type { Cookie } from './cookie.js'
import type { SessionHandle, UpdateFn } from './session-handle.js'

/** Where a session object keeps its link to the request (a symbol: never in Object.keys, never stored). */
export const STATE = Symbol('tether-session.state')

/**
 * The session as the application sees it, in every framework: application data as own properties
 * plus the methods below (all promise-based). Adapters extend it with their framework's API
 * (express-session's callbacks, @fastify/session's `get`/`set`).
 */
export class SessionObject {
  declare cookie: Cookie;
  declare [STATE]: SessionHandle | undefined

  constructor(data?: Record<string, unknown>) {
    copyData(this, data)
  }

  /** The session id (what the signed cookie carries). Changes on `regenerate`, `login` and renewal. */
  get id(): string {
    return stateOf(this).session.id
  }

  /** This session's opaque reference, as `manager.listUserSessions` lists it (not the id). */
  get ref(): string {
    return stateOf(this).session.ref
  }

  /** Milliseconds since the user last authenticated (`login`), or null for an anonymous session. */
  get authAge(): number | null {
    const state = this[STATE]
    return state === undefined ? null : state.authAge()
  }

  /** Writes the session to the store now. */
  save(): Promise<void> {
    return handled(stateOf(this).save())
  }

  /** Re-reads the session from the store, replacing this object. Errors if it is gone. */
  reload(): Promise<void> {
    return handled(stateOf(this).reload())
  }

  /** Removes the session from the store and from the request; the cookie is cleared. */
  destroy(): Promise<void> {
    return handled(stateOf(this).destroy())
  }

  /** Replaces the session with a new, empty one under a new id; the old one is removed. */
  regenerate(): Promise<void> {
    return handled(stateOf(this).regenerate())
  }

  /**
   * Logs `userId` in: a new session id (no fixation), the data kept, `authAt` set, and the
   * session listed under the user. Call it instead of setting a user id in the data yourself.
   */
  login(userId: string, opts: { class?: string } = {}): Promise<void> {
    return stateOf(this).login(userId, opts)
  }

  /**
   * Ends the session (store and cookie); the request gets a new empty session.
   * With `clearSiteData`, the response also carries `Clear-Site-Data: "cache", "cookies", "storage"`.
   */
  logout(opts: { clearSiteData?: boolean } = {}): Promise<void> {
    return stateOf(this).logout(opts)
  }

  /**
   * Records that the user just re-entered their password (step-up): `authAt` becomes now, so
   * `requireFreshAuth` lets them through again. Like `login()`, it gives the session a new id and
   * ends the old one (the response carries the new cookie), keeping the data, user, class,
   * creation time and CSRF token. Rejects for an anonymous session.
   */
  reauthenticated(): Promise<void> {
    return stateOf(this).reauthenticated()
  }

  /**
   * Atomic read-modify-write: `fn` gets the stored data (mutate it or return a new object);
   * retried on a version conflict, so concurrent counters and carts lose nothing.
   */
  update(fn: UpdateFn): Promise<void> {
    return stateOf(this).update(fn)
  }
}

/**
 * Puts data on a session object as own properties. A key the object already has (its methods,
 * `id`, `cookie`, Object.prototype's names, a stored `__proto__`) is skipped: data never replaces
 * a method or the prototype. Tether refuses such keys when set; older stored data may hold them.
 */
export function copyData(session: SessionObject, data: Record<string, unknown> | undefined): void {
  if (typeof data !== 'object' || data === null) return
  for (const prop of Object.keys(data)) {
    if (!(prop in session)) (session as unknown as Record<string, unknown>)[prop] = data[prop]
  }
}

/** The request a session object belongs to; throws for one made by hand. */
export function stateOf(session: SessionObject): SessionHandle {
  const state = session[STATE]
  if (state === undefined)
    throw new Error('this session is not attached to a request handled by tether-session')
  return state
}

/**
 * Marks the promise handled, so a forgotten `session.save()` without await cannot crash the
 * process; the caller that awaits it still sees the rejection.
 */
export function handled<T>(work: Promise<T>): Promise<T> {
  work.catch(function ignoreHere() {})
  return work
}
