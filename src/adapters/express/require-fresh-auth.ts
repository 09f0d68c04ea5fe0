import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseDuration } from '../../core/duration.js'
import { invalidOption } from '../../errors.js'

/** What the guard reads: any request with a Tether session (Express's `Request` is one). */
export type FreshAuthRequest = IncomingMessage & {
  session?: { readonly authAge: number | null } | null
}
type Next = (err?: unknown) => void

/** Options of {@link requireFreshAuth}; `R`/`S` are your framework's request and response types. */
export interface FreshAuthOptions<R extends FreshAuthRequest, S extends ServerResponse> {
  /**
   * Answers a request whose authentication is stale instead of the 401 JSON, e.g. by redirecting
   * a browser to a re-authentication page. Call `reject()` for the default answer.
   */
  onStale?: (req: R, res: S, reject: () => void) => void
}

/**
 * Guards a sensitive route (password change, payouts): lets the request through only when the user
 * authenticated (login or `reauthenticated()`) within `maxAge`, measured from authentication, not
 * from session creation. Otherwise answers 401 `{ "error": "reauth_required" }`, or calls
 * `onStale`. Under `binding: 'step-up'`, a session used from another context is stale too.
 *
 *   app.post('/password', requireFreshAuth('5m'), changePassword)
 */
export function requireFreshAuth<
  R extends FreshAuthRequest = FreshAuthRequest,
  S extends ServerResponse = ServerResponse,
>(maxAge: number | string, options: FreshAuthOptions<R, S> = {}) {
  if (maxAge === undefined)
    throw invalidOption('requireFreshAuth(maxAge) needs a duration, e.g. "5m"')
  const maxAgeMs = parseDuration('requireFreshAuth(maxAge)', maxAge, 0)
  const { onStale } = options
  if (onStale !== undefined && typeof onStale !== 'function')
    throw invalidOption('requireFreshAuth(maxAge, { onStale }): onStale must be a function')
  return function freshAuth(req: R, res: S, next: Next): void {
    const age = req.session?.authAge ?? null
    if (age !== null && age <= maxAgeMs) return next()
    const reject = () => {
      res.statusCode = 401
      res.setHeader('Content-Type', 'application/json; charset=utf-8')
      res.setHeader('Cache-Control', 'no-store')
      res.end(JSON.stringify({ error: 'reauth_required' }))
    }
    if (onStale === undefined) return reject()
    onStale(req, res, reject)
  }
}
