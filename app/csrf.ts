/**
 * CSRF defence, all in this module. The Express adapter does the work (docs/csrf.md): its origin
 * check refuses every unsafe request, /login included, that a browser marks as cross-site
 * (`Sec-Fetch-Site`) or whose `Origin` is another site; its token check (`token: true`) makes every
 * unsafe request on a session carry the session's token (`x-csrf-token` or form field `_csrf`).
 *
 * `preSession: false` exempts requests without a session from the token, so the JSON contract's
 * `POST /login {username,password}` needs none. The login *form* is still protected: a form post
 * to /login must carry the pre-session token `csrfToken(req)` put in the page (login CSRF), which
 * this module checks itself. A JSON body cannot be sent cross-site without a CORS preflight, which
 * this app never grants, so exempting JSON from that check gives an attacker nothing.
 */
import { timingSafeEqual } from 'node:crypto'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { TetherError, type TetherEvent } from 'tether-session'
import { csrfToken, type CsrfOptions } from 'tether-session/express'
import { currentUser } from './current-user.js'
import { requestEvent } from './log.js'

/** The adapter's `csrf` option: origin check, and a token on every request with a session. */
export function csrfOption(trustedOrigins: readonly string[] = []): CsrfOptions {
  return { token: true, preSession: false, trustedOrigins: [...trustedOrigins] }
}

/** The token for this request's forms, or undefined when the session never loaded (an outage). */
export function tokenFor(req: Request): string | undefined {
  return req.session === undefined ? undefined : csrfToken(req)
}

function presented(req: Request): string | undefined {
  const header = req.get('x-csrf-token')
  if (header !== undefined && header !== '') return header
  const field = (req.body as { _csrf?: unknown } | undefined)?._csrf
  return typeof field === 'string' && field !== '' ? field : undefined
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/** Why the login form's token is refused, or null when it is the page's pre-session token. */
function loginTokenProblem(req: Request): 'token-missing' | 'token-invalid' | null {
  const token = presented(req)
  if (token === undefined) return 'token-missing'
  // Without a nonce cookie csrfToken() makes a new one (sent with the 403), so a reload works.
  return sameText(token, csrfToken(req)) ? null : 'token-invalid'
}

/**
 * Mounted on POST /login: a login that is not JSON (a form) must carry the pre-session token of
 * the login page. A logged-in session's token was already checked by the adapter.
 */
export function requireLoginFormToken(onEvent: (event: TetherEvent) => void): RequestHandler {
  return function loginFormToken(req: Request, _res: Response, next: NextFunction): void {
    if (req.is('application/json') === 'application/json' || currentUser(req) !== null) {
      return next()
    }
    const reason = loginTokenProblem(req)
    if (reason === null) return next()
    onEvent(requestEvent(req, 'csrf.rejected', { reason }))
    next(new TetherError('TETHER_CSRF_REJECTED', `login form refused (${reason})`))
  }
}
