/**
 * Administration (docs/reference-app.md "Administration"): the administrator ends one user's
 * sessions (`revokeUserSessions`) or everyone's (`revokeAllSessions`). Only a user with role
 * `admin`, in an admin-class session when SESSION_ADMIN_SECRET is set, after a fresh
 * authentication (SESSION_REAUTH_MAX_AGE); CSRF-protected like every unsafe route. Each action is
 * one log line naming the administrator and what ended, never a token.
 */
import { Router, type NextFunction, type Request, type Response } from 'express'
import { pageContext, type AppContext } from '../context.js'
import { requireUser } from '../current-user.js'
import { freshAuth } from '../fresh-auth.js'
import { HttpError, respond } from '../http.js'
import { adminPage, type AdminUserRow } from '../pages/admin.js'
import { ADMIN_CLASS, currentSessionClass } from '../session-class.js'
import { findUserByName, listUsers, type User } from '../users.js'

/**
 * The app's `revocationCheckInterval`: how long another instance may still accept an old session
 * after revoke-all (each reads the "not before" mark at most this often).
 */
export const REVOCATION_CHECK_MS = 5000

/** The notice after ending a user's sessions (`/admin?user=<name>&revoked=<n>`). */
function revokedNotice(req: Request): string | undefined {
  const name = req.query['user']
  const raw = req.query['revoked']
  const user = typeof name === 'string' ? findUserByName(name) : null
  if (user === null || typeof raw !== 'string' || !/^\d{1,6}$/.test(raw)) return undefined
  const n = Number(raw)
  return `${n} ${n === 1 ? 'session' : 'sessions'} of ${user.username} ended.`
}

/** The administrator, or a 403 (401 without a login). */
async function requireAdmin(ctx: AppContext, req: Request): Promise<User> {
  const user = requireUser(req)
  if (user.role !== 'admin') {
    throw new HttpError(403, 'forbidden', 'Only the administrator may use this page.')
  }
  // An ordinary session from before SESSION_ADMIN_SECRET was set may not act as an admin one.
  if (
    ctx.config.adminClass !== null &&
    (await currentSessionClass(ctx, req, user)) !== ADMIN_CLASS
  ) {
    throw new HttpError(
      403,
      'forbidden',
      'This is not an administrator session. Log out and log in again to get one.',
    )
  }
  return user
}

/** GET /admin, POST /admin/users/:username/revoke, POST /admin/revoke-all. */
export function adminRoutes(ctx: AppContext): Router {
  const router = Router()

  async function adminOnly(req: Request, _res: Response, next: NextFunction): Promise<void> {
    await requireAdmin(ctx, req)
    next()
  }
  const guards = [adminOnly, freshAuth(ctx.config.reauthMaxAgeMs, '/admin')]

  router.get('/admin', guards, async function adminHome(req: Request, res: Response) {
    const users: AdminUserRow[] = []
    for (const user of listUsers()) {
      const sessions = (await ctx.sessions.listUserSessions(user.id)).length
      users.push({ userId: user.id, username: user.username, role: user.role, sessions })
    }
    const notice = revokedNotice(req)
    const page = () =>
      adminPage(pageContext(ctx, req), users, { notice, checkSeconds: REVOCATION_CHECK_MS / 1000 })
    respond(req, res, { users }, { page })
  })

  router.post(
    '/admin/users/:username/revoke',
    guards,
    async function endUser(req: Request<{ username: string }>, res: Response) {
      const admin = requireUser(req)
      const target = findUserByName(req.params['username'] ?? '')
      if (target === null) throw new HttpError(404, 'not_found', 'There is no such user.')
      // The administrator's own sessions end too, except the one doing this.
      const except = target.id === admin.id ? { except: req.session.ref } : {}
      const revoked = await ctx.sessions.revokeUserSessions(target.id, except)
      const line = {
        admin: admin.username,
        action: 'revoke-user',
        target: target.username,
        revoked,
      }
      ctx.logger.info(line, 'administrator ended the sessions of a user')
      const redirect = `/admin?user=${encodeURIComponent(target.username)}&revoked=${revoked}`
      respond(req, res, { ok: true, revoked }, { redirect })
    },
  )

  router.post('/admin/revoke-all', guards, async function endEveryone(req: Request, res: Response) {
    const admin = requireUser(req)
    const notBefore = await ctx.sessions.revokeAllSessions()
    ctx.logger.warn(
      { admin: admin.username, action: 'revoke-all', notBefore },
      'administrator ended every session of every user',
    )
    // This session ended too: its cookie goes now rather than at the next request.
    await req.session.logout()
    respond(req, res, { ok: true, notBefore }, { redirect: '/login?all_ended' })
  })

  return router
}
