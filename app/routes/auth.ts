/**
 * Login, logout, profile and the CSRF token: the JSON contract of DESIGN.md "Reference app", and
 * pages for people on the same routes.
 */
import { Router, type Request, type Response } from 'express'
import { appSession, currentUser, pageContext, requireUser, type AppContext } from '../context.js'
import { HttpError, wantsHtml } from '../http.js'
import { requestEvent } from '../log.js'
import { formatDuration } from '../pages/format.js'
import { loginPage } from '../pages/login.js'
import { profilePage } from '../pages/profile.js'
import { createRateLimiter } from '../rate-limit.js'
import { authenticate } from '../users.js'

const WINDOW_MS = 15 * 60_000

function loginNotice(req: Request) {
  if (req.query['logged_out'] !== undefined) {
    return { kind: 'info' as const, text: 'You are logged out.' }
  }
  return undefined
}

/** The routes of logging in and out. */
export function authRoutes(ctx: AppContext): Router {
  const router = Router()
  // Per account (from one address) and per address: slows guessing without locking anyone out for good.
  const perAccount = createRateLimiter({ maxFailures: 5, windowMs: WINDOW_MS })
  const perAddress = createRateLimiter({ maxFailures: 50, windowMs: WINDOW_MS })

  router.get('/', function home(req, res) {
    res.redirect(303, currentUser(req) === null ? '/login' : '/profile')
  })

  router.get('/login', function loginForm(req, res) {
    if (currentUser(req) !== null) return res.redirect(303, '/profile')
    res.type('html').send(loginPage(pageContext(ctx, req), { notice: loginNotice(req) }))
  })

  router.post('/login', async function login(req: Request, res: Response) {
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown }
    const username = typeof body.username === 'string' ? body.username.slice(0, 100) : ''
    const accountKey = `${req.ip}\n${username.toLowerCase()}`
    const addressKey = String(req.ip)
    const waitMs = Math.max(
      perAccount.retryAfterMs(accountKey),
      perAddress.retryAfterMs(addressKey),
    )
    if (waitMs > 0) {
      ctx.onEvent(requestEvent(req, 'ratelimit.blocked', { reason: 'login' }))
      throw new HttpError(
        429,
        'too_many_attempts',
        `Too many failed logins. Please try again in ${formatDuration(waitMs)}.`,
        Math.ceil(waitMs / 1000),
      )
    }
    const user = await authenticate(body.username, body.password)
    if (user === null) {
      perAccount.fail(accountKey)
      perAddress.fail(addressKey)
      const message = 'Wrong username or password.'
      res.status(401)
      if (!wantsHtml(req)) return res.json({ ok: false, error: 'invalid_credentials', message })
      const notice = { kind: 'error' as const, text: message }
      return res.type('html').send(loginPage(pageContext(ctx, req), { notice, username }))
    }
    perAccount.reset(accountKey)
    // A new session id (no fixation): a cookie planted before login is worth nothing after it.
    await req.session.login(user.id)
    // Set after login, on the new session: had login failed, the old one must not hold the user.
    appSession(req)!.userId = user.id
    if (wantsHtml(req)) return res.redirect(303, '/profile')
    res.json({ ok: true, user: { userId: user.id, username: user.username } })
  })

  router.post('/logout', async function logout(req, res) {
    if (currentUser(req) !== null) await req.session.logout()
    if (wantsHtml(req)) return res.redirect(303, '/login?logged_out')
    res.json({ ok: true })
  })

  router.get('/profile', function profile(req, res) {
    const user = requireUser(req)
    if (!wantsHtml(req)) return res.json({ userId: user.id, username: user.username })
    const now = Date.now()
    const authAge = req.session.authAge
    const view = {
      userId: user.id,
      username: user.username,
      authAt: authAge === null ? undefined : now - authAge,
      idleTimeoutMs: ctx.config.idleTimeoutMs,
      absoluteTimeoutMs: ctx.config.absoluteTimeoutMs,
      now,
    }
    res.type('html').send(profilePage(pageContext(ctx, req), view))
  })

  router.get('/csrf-token', function csrfToken(req, res) {
    res.json({ csrfToken: ctx.csrf.token(req) })
  })

  return router
}
