/**
 * "Your sessions": every device the user is logged in on, and revocation of one or of all others.
 * Revocation is always scoped to the logged-in user, so a ref of someone else's session does nothing,
 * and needs a fresh authentication (SESSION_REAUTH_MAX_AGE), as the password change does: a stolen
 * session cannot lock its owner out. Ending the current session is logging out, and needs none.
 */
import { Router, type NextFunction, type Request, type Response } from 'express'
import { pageContext, type AppContext } from '../context.js'
import { requireUser } from '../current-user.js'
import { freshAuth } from '../fresh-auth.js'
import { HttpError, respond } from '../http.js'
import { sessionsPage, type SessionRow } from '../pages/sessions.js'

function revokedNotice(req: Request): string | undefined {
  const raw = req.query['revoked']
  const n = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : undefined
  if (n === undefined) return undefined
  if (n === 0) return 'No other session was open.'
  return n === 1 ? 'One session was logged out.' : `${n} sessions were logged out.`
}

/** The session listing and revocation routes. */
export function sessionRoutes(ctx: AppContext): Router {
  const router = Router()

  router.get('/sessions', async function listSessions(req, res) {
    const user = requireUser(req)
    const list = await ctx.sessions.listUserSessions(user.id, { current: req.session.ref })
    // The class is listed only when there are classes: without them every session is "default".
    const sessions: SessionRow[] = list.map(function toRow(s) {
      return {
        ref: s.ref,
        current: s.current,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        userAgent: s.userAgent ?? null,
        ip: s.ip ?? null,
        sessionClass: s.sessionClass,
      }
    })
    respond(
      req,
      res,
      { sessions },
      {
        page: () => sessionsPage(pageContext(ctx, req), sessions, Date.now(), revokedNotice(req)),
      },
    )
  })

  // A browser with a stale login is sent to /reauth, then back to this page.
  const fresh = freshAuth(ctx.config.reauthMaxAgeMs, '/sessions')

  router.post('/sessions/revoke-others', fresh, async function revokeOthers(req, res) {
    const user = requireUser(req)
    const revoked = await ctx.sessions.revokeUserSessions(user.id, { except: req.session.ref })
    respond(req, res, { ok: true, revoked }, { redirect: `/sessions?revoked=${revoked}` })
  })

  function freshUnlessCurrent(
    req: Request<{ ref: string }>,
    res: Response,
    next: NextFunction,
  ): void {
    if (req.params['ref'] === req.session.ref) next()
    else fresh(req, res, next)
  }

  router.post('/sessions/:ref/revoke', freshUnlessCurrent, async function revokeOne(req, res) {
    const user = requireUser(req)
    const ref = req.params['ref'] ?? ''
    if (ref === req.session.ref) {
      // Revoking this device is logging out: the cookie is cleared too.
      await req.session.logout()
      respond(req, res, { ok: true, revoked: 1 }, { redirect: '/login?logged_out' })
      return
    }
    // Scoped to the user: another user's ref (or a guessed one) is "not found", never revoked.
    if (!(await ctx.sessions.revokeSession(ref, { userId: user.id }))) {
      throw new HttpError(404, 'not_found', 'There is no such session among yours.')
    }
    respond(req, res, { ok: true, revoked: 1 }, { redirect: '/sessions?revoked=1' })
  })

  return router
}
