import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseDuration } from '../../core/duration.js'
import { invalidOption } from '../../errors.js'
import type { Session } from './session.js'

/**
 * Guards a sensitive route (password change, payouts): lets the request through only when the user
 * authenticated (login or `reauthenticated()`) within `maxAge`, measured from authentication, not
 * from session creation. Otherwise answers 401 `{ "error": "reauth_required" }`.
 *
 *   app.post('/password', requireFreshAuth('5m'), changePassword)
 */
export function requireFreshAuth(maxAge: number | string) {
  if (maxAge === undefined)
    throw invalidOption('requireFreshAuth(maxAge) needs a duration, e.g. "5m"')
  const maxAgeMs = parseDuration('requireFreshAuth(maxAge)', maxAge, 0)
  return function freshAuth(
    req: IncomingMessage & { session?: Session | null },
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const age = req.session?.authAge ?? null
    if (age !== null && age <= maxAgeMs) return next()
    res.statusCode = 401
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.setHeader('Cache-Control', 'no-store')
    res.end(JSON.stringify({ error: 'reauth_required' }))
  }
}
