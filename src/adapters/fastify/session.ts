import type { Session } from 'fastify'
import { diffData } from '../../core/diff.js'
import { isTetherError } from '../../errors.js'
import type { Cookie, CookieOptions } from '../../http/cookie.js'
import type { RequestSession } from '../../http/request-session.js'
import { SessionObject, stateOf } from '../../http/session-object.js'
import type { SessionData } from '../../index.js'

declare module 'fastify' {
  /**
   * @fastify/session's place for typing session data (`declare module 'fastify' { interface
   * Session { user: User } }`), kept so such declarations go on working; Tether's own is
   * `declare module 'tether-session' { interface SessionData { ... } }`.
   */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Session {}
}

/** The data an application declared, in Tether's `SessionData` or @fastify/session's `Session`. */
export type DeclaredData = SessionData & Session

/** A node-style callback of @fastify/session's session methods. */
export type Done = (err?: unknown) => void

/**
 * With a callback, reports `work` to it (null when it succeeded); without one, returns `work`,
 * marked handled so a call without await cannot crash the process (an await still sees the error).
 */
export function settle(work: Promise<void>, cb: Done | undefined): Promise<void> | undefined {
  if (typeof cb !== 'function') {
    work.catch(function ignoreHere() {})
    return work
  }
  work.then(function succeeded() {
    cb(null)
  }, cb)
  return undefined
}

/**
 * `request.session` in Fastify: @fastify/session's API (`get`, `set`, `regenerate`, `destroy`,
 * `reload`, `save`, `touch`, `options`, `isModified`, `sessionId`, `encryptedSessionId`, plain
 * property access) on Tether's session. Methods take a callback or return a promise.
 */
export class FastifySession extends SessionObject {
  #saved = false

  /** A value of the session's data (`request.session.get('user')`). */
  get<K extends keyof DeclaredData>(key: K): DeclaredData[K] | undefined {
    return (this as unknown as DeclaredData)[key]
  }

  /** Sets a value of the session's data (`request.session.set('user', user)`). */
  set<K extends keyof DeclaredData>(key: K, value: DeclaredData[K]): void {
    ;(this as unknown as DeclaredData)[key] = value
  }

  /** The session id (what the signed cookie carries). Changes on `regenerate`, login and renewal. */
  get sessionId(): string {
    return this.id
  }

  /** The signed cookie value of this session (@fastify/session's `encryptedSessionId`). */
  get encryptedSessionId(): string {
    return stateOf(this).token()
  }

  /** The data differs from what was loaded or last saved. */
  isModified(): boolean {
    const request = stateOf(this)
    const data: Record<string, unknown> = {}
    for (const key of Object.keys(this))
      if (key !== 'cookie') data[key] = (this as unknown as Record<string, unknown>)[key]
    return diffData(request.session.snapshot, data).changed
  }

  /** This session object was saved with `save()` (a reloaded or regenerated one starts unsaved). */
  isSaved(): boolean {
    return this.#saved
  }

  /** Restarts the cookie's lifetime from its original maxAge. */
  touch(): void {
    if (this.cookie.originalMaxAge !== null) this.cookie.maxAge = this.cookie.originalMaxAge
  }

  /**
   * Changes this session's cookie attributes (e.g. `{ maxAge }`), sent with the response; other
   * sessions keep the configured ones. `httpOnly: false` is ignored: the session cookie stays HttpOnly.
   */
  options(opts: CookieOptions): void {
    for (const [key, value] of Object.entries(preferMaxAge(opts)))
      (this.cookie as unknown as Record<string, unknown>)[key] = value
  }

  /**
   * A new session under a new id; the old one is removed from the store. With `keys`, those
   * values are carried over (@fastify/session's `regenerate(['userId'])`), and so are this
   * session's cookie settings (`options()`), its lifetime restarted. The new session is written
   * with the response, like any other.
   */
  override regenerate(callback: Done): void
  override regenerate(keys: string[], callback: Done): void
  override regenerate(keys?: string[]): Promise<void>
  override regenerate(keys?: string[] | Done, cb?: Done): Promise<void> | void {
    const keep = Array.isArray(keys) ? keys : []
    const done = typeof keys === 'function' ? keys : cb
    const kept = keep.map(
      (key) => [key, (this as unknown as Record<string, unknown>)[key]] as const,
    )
    const cookie = this.cookie
    const request = stateOf(this)
    const work = super.regenerate().then(function carryOver() {
      const fresh = (request.native as { session: FastifySession }).session
      for (const [key, value] of kept) (fresh as unknown as Record<string, unknown>)[key] = value
      carryCookie(cookie, fresh.cookie)
    })
    return settle(work, done)
  }

  /** Removes the session from the store and the request (`request.session` becomes null). */
  override destroy(callback: Done): void
  override destroy(): Promise<void>
  override destroy(cb?: Done): Promise<void> | void {
    return settle(super.destroy(), cb)
  }

  /**
   * Re-reads the session from the store into a new `request.session`. As in @fastify/session, a
   * session the store does not hold reloads empty: a never-saved one keeps its id, one that is
   * gone (expired, revoked) becomes a new session, so it is never written back under its old id.
   */
  override reload(callback: Done): void
  override reload(): Promise<void>
  override reload(cb?: Done): Promise<void> | void {
    return settle(reloadOrEmpty(this), cb)
  }

  /** Writes the session to the store now. */
  override save(callback: Done): void
  override save(): Promise<void>
  override save(cb?: Done): Promise<void> | void {
    const markSaved = (): void => {
      this.#saved = true
    }
    return settle(super.save().then(markSaved), cb)
  }
}

async function reloadOrEmpty(session: FastifySession): Promise<void> {
  // This adapter's session objects always hang off the engine's RequestSession.
  const request = stateOf(session) as RequestSession
  try {
    await request.reload()
  } catch (err) {
    if (!isTetherError(err) || err.code !== 'TETHER_SESSION_NOT_FOUND') throw err
    request.attach(request.session.isNew ? request.session : null, {})
  }
}

const ATTRIBUTES = ['path', 'domain', 'sameSite', 'secure', 'partitioned', 'priority'] as const

/** Gives `to` the attributes and lifetime of `from`, the lifetime restarting now. */
function carryCookie(from: Cookie, to: Cookie): void {
  for (const key of ATTRIBUTES)
    if (from[key] !== undefined) (to as unknown as Record<string, unknown>)[key] = from[key]
  if (from.originalMaxAge !== null) to.maxAge = from.originalMaxAge
}

/** @fastify/session's rule: a `maxAge` wins over an `expires` given with it. */
export function preferMaxAge<T extends CookieOptions>(opts: T): T {
  if (!opts.maxAge || opts.expires == null) return opts
  const { expires: _expires, ...rest } = opts
  return rest as T
}
