/**
 * Login, logout, profile and the CSRF token: the JSON contract of DESIGN.md "Reference app", and
 * pages for people on the same routes.
 */
import { Router, type Request, type Response } from 'express'
import { isTetherError } from 'tether-session'
import { pageContext, type AppContext } from '../context.js'
import { currentUser, requireUser } from '../current-user.js'
import { SESSION_LIMIT_MESSAGE } from '../errors.js'
import { requireLoginFormToken, tokenFor } from '../csrf.js'
import { respond, wantsHtml } from '../http.js'
import { loginPage } from '../pages/login.js'
import { profilePage } from '../pages/profile.js'
import { adminLimits, currentSessionClass, logIn } from '../session-class.js'
import type { User } from '../users.js'

const WRONG = 'Wrong username or password.'

/** The notice after a password change (`/profile?password_changed=<other sessions ended>`). */
function passwordChangedNotice(req: Request): string | undefined {
  const raw = req.query['password_changed']
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw)) return undefined
  const n = Number(raw)
  const ended =
    n === 0
      ? 'No other session was open.'
      : n === 1
        ? 'One other session was logged out.'
        : `${n} other sessions were logged out.`
  return `Your password was changed. ${ended}`
}

/** The routes of logging in and out. */
export function authRoutes(ctx: AppContext): Router {
  const router = Router()
  const { limits, users } = ctx

  router.get('/', function home(req, res) {
    res.redirect(303, currentUser(req) === null ? '/login' : '/profile')
  })

  router.get('/login', function loginForm(req, res) {
    if (currentUser(req) !== null) {
      res.redirect(303, '/profile')
      return
    }
    const notice =
      req.query['all_ended'] !== undefined
        ? { kind: 'info' as const, text: 'Every session of every user has ended, yours included.' }
        : req.query['logged_out'] === undefined
          ? undefined
          : { kind: 'info' as const, text: 'You are logged out.' }
    res.type('html').send(loginPage(pageContext(ctx, req), { notice }))
  })

  router.post(
    '/login',
    requireLoginFormToken(ctx.onEvent),
    async function login(req: Request, res: Response) {
      const body = (req.body ?? {}) as { username?: unknown; password?: unknown }
      const username = typeof body.username === 'string' ? body.username.slice(0, 100) : ''
      limits.check(req, username, 'login')
      const user = await users.authenticate(body.username, body.password)
      if (user === null) {
        limits.failed(req, username, 'login')
        res.status(401)
        respond(
          req,
          res,
          { ok: false, error: 'invalid_credentials', message: WRONG },
          {
            page: () =>
              loginPage(pageContext(ctx, req), {
                notice: { kind: 'error', text: WRONG },
                username,
              }),
          },
        )
        return
      }
      limits.succeeded(req, username)
      // A new session id (no fixation): a cookie planted before login is worth nothing after it.
      if (!(await logInUnlessFull(req, res, user))) return
      const json = { ok: true, user: { userId: user.id, username: user.username } }
      respond(req, res, json, { redirect: '/profile' })
    },
  )

  /**
   * Logs `user` in; false when SESSION_MAX_PER_USER refused it (SESSION_LIMIT_POLICY=refuse),
   * after answering 409 with what to do: as JSON, or the login form again with the message.
   */
  async function logInUnlessFull(req: Request, res: Response, user: User): Promise<boolean> {
    try {
      await logIn(ctx, req, user)
      return true
    } catch (err) {
      if (!isTetherError(err) || err.code !== 'TETHER_SESSION_LIMIT') throw err
    }
    ctx.logger.warn(
      { username: user.username, userId: user.id, reason: 'session_limit', ip: req.ip },
      'login refused: the user is logged in on SESSION_MAX_PER_USER devices already',
    )
    res.status(409)
    const json = { ok: false, error: 'TETHER_SESSION_LIMIT', message: SESSION_LIMIT_MESSAGE }
    const notice = { kind: 'error' as const, text: SESSION_LIMIT_MESSAGE }
    const page = () => loginPage(pageContext(ctx, req), { notice, username: user.username })
    respond(req, res, json, { page })
    return false
  }

  router.post('/logout', async function logout(req, res) {
    // Clear-Site-Data too: this app keeps nothing else in the browser that should survive a logout.
    if (currentUser(req) !== null) await req.session.logout({ clearSiteData: true })
    respond(req, res, { ok: true }, { redirect: '/login?logged_out' })
  })

  router.get('/profile', async function profile(req, res) {
    const user = requireUser(req)
    // The JSON answer is the contract's {userId, username}: only the page needs the class.
    const sessionClass = wantsHtml(req) ? await currentSessionClass(ctx, req, user) : 'default'
    const admin = adminLimits(ctx.config, sessionClass)
    const view = {
      userId: user.id,
      username: user.username,
      authAgeMs: req.session.authAge,
      isAdminSession: admin !== null,
      idleTimeoutMs: (admin ?? ctx.config).idleTimeoutMs,
      absoluteTimeoutMs: (admin ?? ctx.config).absoluteTimeoutMs,
      now: Date.now(),
      notice: passwordChangedNotice(req),
    }
    respond(
      req,
      res,
      { userId: user.id, username: user.username },
      {
        page: () => profilePage(pageContext(ctx, req), view),
      },
    )
  })

  router.get('/csrf-token', function csrfToken(req, res) {
    res.json({ csrfToken: tokenFor(req) })
  })

  return router
}
