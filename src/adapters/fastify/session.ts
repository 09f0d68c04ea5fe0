import { diffData } from '../../core/diff.js'
import { SessionObject, stateOf } from '../../http/session-object.js'

type Done = (err?: unknown) => void

function settle(work: Promise<void>, cb: Done | undefined): Promise<void> | undefined {
  if (typeof cb !== 'function') return work
  work.then(() => cb(), cb)
  return undefined
}

/**
 * `request.session` in Fastify: @fastify/session's API (`get`, `set`, `regenerate`, `destroy`,
 * `reload`, `save`, `touch`, `sessionId`, plain property access) on Tether's session. Methods take
 * a callback or return a promise.
 */
export class FastifySession extends SessionObject {
  /** A value of the session's data. */
  get<T = unknown>(key: string): T | undefined {
    return (this as unknown as Record<string, T>)[key]
  }

  /** Sets a value of the session's data. */
  set(key: string, value: unknown): void {
    ;(this as unknown as Record<string, unknown>)[key] = value
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
    for (const key of Object.keys(this)) if (key !== 'cookie') data[key] = this.get(key)
    return diffData(request.session.snapshot, data).changed
  }

  /** Restarts the cookie's lifetime from its original maxAge. */
  touch(): void {
    if (this.cookie.originalMaxAge !== null) this.cookie.maxAge = this.cookie.originalMaxAge
  }

  /** Changes this session's cookie attributes (e.g. `{ maxAge }`), sent with the response. */
  options(opts: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(opts))
      (this.cookie as unknown as Record<string, unknown>)[key] = value
  }

  /**
   * A new session under a new id; the old one is removed. With `keys`, those values are carried
   * over (@fastify/session's `regenerate(['userId'])`).
   */
  override regenerate(keys?: string[] | Done, cb?: Done): Promise<void> {
    const keep = Array.isArray(keys) ? keys : []
    const done = typeof keys === 'function' ? keys : cb
    const kept = keep.map((key) => [key, this.get(key)] as const)
    const request = stateOf(this)
    const work = super.regenerate().then(function carryOver() {
      const fresh = request.native as { session: FastifySession }
      for (const [key, value] of kept) fresh.session.set(key, value)
    })
    return settle(work, done) as Promise<void>
  }

  override destroy(cb?: Done): Promise<void> {
    return settle(super.destroy(), cb) as Promise<void>
  }

  override reload(cb?: Done): Promise<void> {
    return settle(super.reload(), cb) as Promise<void>
  }

  override save(cb?: Done): Promise<void> {
    return settle(super.save(), cb) as Promise<void>
  }
}
