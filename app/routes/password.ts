/**
 * Changing the password (docs/security.md "Password change") and confirming it is you (step-up).
 * `/password` needs a recent authentication (SESSION_REAUTH_MAX_AGE; under SESSION_BINDING=step-up
 * also the browser and network of the login); `/reauth` renews it. A wrong password on either
 * counts towards the same limits as /login.
 */
import { Router, type Request, type Response } from 'express'
import { pageContext, type AppContext } from '../context.js'
import { requireUser } from '../current-user.js'
import { freshAuth } from '../fresh-auth.js'
import { HttpError, respond } from '../http.js'
import { safeNextPath } from '../next-path.js'
import { MIN_PASSWORD_CHARS, newPasswordProblem } from '../password-rules.js'
import type { FormNotice } from '../pages/form.js'
import { passwordPage } from '../pages/password.js'
import { reauthPage } from '../pages/reauth.js'
import { logIn } from '../session-class.js'

/** Where a browser goes after /reauth when it named nowhere (or somewhere off this site). */
const DEFAULT_NEXT = '/profile'

/** The body's string fields (a form or JSON); anything else reads as undefined. */
function textField(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' ? value : undefined
}

/** Answers a refused attempt: `{ ok: false, error, message }`, or the form again with the message. */
function refuse(
  req: Request,
  res: Response,
  answer: { status: number; error: string; message: string },
  page: (notice: FormNotice) => string,
): void {
  res.status(answer.status)
  const json = { ok: false, error: answer.error, message: answer.message }
  respond(req, res, json, { page: () => page({ kind: 'error', text: answer.message }) })
}

/** GET and POST /password, GET and POST /reauth. */
export function passwordRoutes(ctx: AppContext): Router {
  const router = Router()
  const { config, limits, users } = ctx
  const form = (req: Request) => (notice?: FormNotice) =>
    passwordPage(pageContext(ctx, req), {
      notice,
      reauthMaxAgeMs: config.reauthMaxAgeMs,
      minChars: MIN_PASSWORD_CHARS,
    })

  // A page for people (programs POST): ask for the password first rather than after the form.
  router.get(
    '/password',
    freshAuth(config.reauthMaxAgeMs, '/password'),
    function passwordForm(req, res) {
      res.type('html').send(form(req)())
    },
  )

  router.post(
    '/password',
    freshAuth(config.reauthMaxAgeMs, '/password'),
    async function changePassword(req: Request, res: Response) {
      const user = requireUser(req)
      limits.check(req, user.username, 'password')
      const current = textField(req, 'currentPassword')
      const next = textField(req, 'newPassword')
      if (current === undefined || next === undefined) {
        throw new HttpError(400, 'bad_request', 'Send currentPassword and newPassword.')
      }
      if (!(await users.checkPassword(user.id, current))) {
        limits.failed(req, user.username, 'password', user.id)
        const message = 'Your current password is wrong.'
        refuse(req, res, { status: 403, error: 'invalid_credentials', message }, form(req))
        return
      }
      limits.succeeded(req, user.username)
      const confirm = textField(req, 'confirmPassword')
      const problem = newPasswordProblem({ username: user.username, current, next, confirm })
      if (problem !== null) {
        const answer = { status: 400, error: 'invalid_new_password', message: problem }
        refuse(req, res, answer, form(req))
        return
      }
      // Stored before the revocation: a device that logs in meanwhile already needs the new one.
      await users.setPassword(user.id, next)
      const revoked = await ctx.sessions.revokeUserSessions(user.id, { except: req.session.ref })
      // A new id here too (same class): whoever knew the old password may have seen the cookie.
      await logIn(ctx, req, user)
      const json = { ok: true, revoked }
      respond(req, res, json, { redirect: `/profile?password_changed=${revoked}` })
    },
  )

  router.get('/reauth', function reauthForm(req, res) {
    requireUser(req)
    const next = safeNextPath(req.query['next']) ?? DEFAULT_NEXT
    res.type('html').send(reauthPage(pageContext(ctx, req), { next }))
  })

  router.post('/reauth', async function reauth(req: Request, res: Response) {
    const user = requireUser(req)
    limits.check(req, user.username, 'reauth')
    const next = safeNextPath(textField(req, 'next') ?? req.query['next']) ?? DEFAULT_NEXT
    if (!(await users.checkPassword(user.id, textField(req, 'password')))) {
      limits.failed(req, user.username, 'reauth', user.id)
      const answer = { status: 403, error: 'invalid_credentials', message: 'Wrong password.' }
      refuse(req, res, answer, (notice) => reauthPage(pageContext(ctx, req), { next, notice }))
      return
    }
    limits.succeeded(req, user.username)
    // A new session id (the old cookie ends), authAt = now, and this browser and network become
    // the session's own.
    await req.session.reauthenticated()
    respond(req, res, { ok: true }, { redirect: next })
  })

  return router
}
