/**
 * Step-up for sensitive routes (docs/security.md "Step-up"): a route behind {@link freshAuth} runs
 * only when the user logged in or re-entered their password within SESSION_REAUTH_MAX_AGE, and, under
 * SESSION_BINDING=step-up, from the browser and network they did that from (else `authAge` is null).
 * Programs get tether-session's answer, 401 `{ "error": "reauth_required" }`; browsers are sent to
 * the /reauth form, which comes back here afterwards.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { requireFreshAuth } from 'tether-session/express'
import { requireUser } from './current-user.js'
import { wantsHtml } from './http.js'

/** The /reauth form, returning to `next` (a path of this app) once the password is confirmed. */
export function reauthUrl(next: string): string {
  return `/reauth?next=${encodeURI(next)}`
}

/**
 * Guards a route: 401 `not_logged_in` without a user; with stale authentication, 401
 * `reauth_required` for programs and a 303 to `/reauth?next=<returnTo>` for browsers.
 */
export function freshAuth(maxAgeMs: number, returnTo: string): RequestHandler {
  const guard = requireFreshAuth<Request, Response>(maxAgeMs, {
    onStale(req, res, reject) {
      if (wantsHtml(req)) res.redirect(303, reauthUrl(returnTo))
      else reject()
    },
  })
  return function freshAuthOrReauth(req: Request, res: Response, next: NextFunction): void {
    requireUser(req)
    guard(req, res, next)
  }
}
