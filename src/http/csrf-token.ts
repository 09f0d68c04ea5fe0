import { STATE, type SessionObject } from './session-object.js'

/**
 * What `csrfToken()` accepts: a session object, or what carries one: Express's and node:http's
 * `req`, Fastify's `request`, Koa's `ctx` (`.session`), Hono's context (`c.var.session`).
 */
export type CsrfTokenSource = SessionObject | object

function isSession(value: unknown): value is SessionObject {
  return (
    typeof value === 'object' && value !== null && (value as SessionObject)[STATE] !== undefined
  )
}

/**
 * The CSRF token for this request, to put in a form (`_csrf`) or send as header `x-csrf-token`.
 * With a stored session (or one just logged in) it is the session's token, which login, logout and
 * regenerate change and a renewal keeps; before that, a pre-session token bound to an HttpOnly
 * nonce cookie (set here if needed), so login forms are protected too. Reveals nothing about the
 * session id. Pass the request (`req`, `request`, `ctx`, Hono's `c`) or the session itself.
 */
export function csrfToken(source: CsrfTokenSource): string {
  const s = source as { session?: unknown; var?: { session?: unknown } } | undefined
  const session = isSession(s)
    ? s
    : isSession(s?.session)
      ? s.session
      : isSession(s?.var?.session)
        ? s.var.session
        : undefined
  if (session === undefined)
    throw new Error('csrfToken(req) needs the tether-session middleware to run before this route')
  return session[STATE]!.csrfToken()
}
