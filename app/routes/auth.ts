/**
 * Login, logout, profile and the CSRF token: the JSON contract of DESIGN.md "Reference app", and
 * pages for people on the same routes.
 */
import { Router, type Request, type Response } from 'express'
import { pageContext, type AppContext } from '../context.js'
import { appSession, currentUser, requireUser } from '../current-user.js'
import { requireLoginFormToken, tokenFor } from '../csrf.js'
import { HttpError, respond } from '../http.js'
import { requestEvent } from '../log.js'
import { formatDuration } from '../pages/format.js'
import { loginPage } from '../pages/login.js'
import { profilePage } from '../pages/profile.js'
import { createRateLimiter, type RateLimiter } from '../rate-limit.js'
import { authenticate } from '../users.js'

const WINDOW_MS = 15 * 60_000
const WRONG = 'Wrong username or password.'

/**
 * Failed logins counted per account (from one address) and per address: slows guessing without
 * locking the real user out from everywhere else.
 */
function createLoginLimits(ctx: AppContext) {
  const perAccount = createRateLimiter({ maxFailures: 5, windowMs: WINDOW_MS })
  const perAddress = createRateLimiter({ maxFailures: 50, windowMs: WINDOW_MS })
  const keys = (req: Request, username: string): [string, string] => [
    `${req.ip}\n${username.toLowerCase()}`,
    String(req.ip),
  ]
  const pairs = (req: Request, username: string): [RateLimiter, string][] => {
    const [account, address] = keys(req, username)
    return [
      [perAccount, account],
      [perAddress, address],
    ]
  }
  return {
    /** Throws 429 (and logs `ratelimit.blocked`) while this account or address is blocked. */
    check(req: Request, username: string): void {
      const waitMs = Math.max(...pairs(req, username).map(([l, key]) => l.retryAfterMs(key)))
      if (waitMs <= 0) return
      ctx.onEvent(requestEvent(req, 'ratelimit.blocked', { reason: 'login' }))
      const message = `Too many failed logins. Please try again in ${formatDuration(waitMs)}.`
      throw new HttpError(429, 'too_many_attempts', message, Math.ceil(waitMs / 1000))
    },
    failed(req: Request, username: string): void {
      for (const [limiter, key] of pairs(req, username)) limiter.fail(key)
    },
    succeeded(req: Request, username: string): void {
      perAccount.reset(keys(req, username)[0])
    },
  }
}

/** The routes of logging in and out. */
export function authRoutes(ctx: AppContext): Router {
  const router = Router()
  const limits = createLoginLimits(ctx)

  router.get('/', function home(req, res) {
    res.redirect(303, currentUser(req) === null ? '/login' : '/profile')
  })

  router.get('/login', function loginForm(req, res) {
    if (currentUser(req) !== null) {
      res.redirect(303, '/profile')
      return
    }
    const notice =
      req.query['logged_out'] === undefined
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
      limits.check(req, username)
      const user = await authenticate(body.username, body.password)
      if (user === null) {
        limits.failed(req, username)
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
      await req.session.login(user.id)
      // Set after login, on the new session: had login failed, the old one must not hold the user.
      appSession(req)!.userId = user.id
      const json = { ok: true, user: { userId: user.id, username: user.username } }
      respond(req, res, json, { redirect: '/profile' })
    },
  )

  router.post('/logout', async function logout(req, res) {
    if (currentUser(req) !== null) await req.session.logout()
    respond(req, res, { ok: true }, { redirect: '/login?logged_out' })
  })

  router.get('/profile', function profile(req, res) {
    const user = requireUser(req)
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
