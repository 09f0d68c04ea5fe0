import type { SessionObject } from './session-object.js'

/**
 * How an adapter connects the engine to its framework: where the session object lives on the
 * request, and how headers reach the response. One object per adapter, created once: the engine
 * calls its methods with the framework's own request (`N`) and response target (`R`), so a request
 * costs no closures.
 */
export interface AdapterHooks<N, R> {
  /**
   * Keep one session object for the whole request: `login`, `regenerate`, `logout` and `reload`
   * swap its data in place. For APIs where the application holds the object in a variable
   * (`const session = await sessions.load(req)`); express-session and @fastify/session replace it.
   */
  readonly keepObject: boolean
  /** A session object holding `data` (express-session's `Session`, Fastify's, or the plain one). */
  createSession(native: N, data: Record<string, unknown>): SessionObject
  /** Puts the session where the application reads it (`req.session`, `ctx.session`, ...); null removes it. */
  attach(native: N, session: SessionObject | null, id: string | undefined): void
  /** The session object the application holds now: another one, or none, means it replaced or dropped it. */
  current(native: N): unknown
  /** Adds one `Set-Cookie` line to the response. */
  appendSetCookie(out: R, line: string): void
  /** Sets (replaces) a response header. */
  setHeader(out: R, name: string, value: string): void
  /** The headers are on the wire: nothing can be added any more. */
  headersSent(out: R): boolean
}
