/**
 * An Express 5 app written for express-session. Moving it to Tether changed one line, the import
 * of `session` below (it was `import session from 'express-session'`); the express-session code
 * (req.session.views, the cookie and store options) runs as it was. Login and logout then use
 * Tether's additions, `req.session.login()` and `req.session.logout()`, which give the session a
 * new id (no session fixation) and end it in the store and the browser.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'tether-session/express'

/**
 * What this app keeps in the session. An app of your own declares it once and `req.session` is
 * typed everywhere: `declare module 'tether-session' { interface SessionData { views: number } }`.
 * This example is compiled together with Tether's own src/, whose `req.session` type that
 * declaration (made for the published package) does not reach, so it names the type here.
 */
interface AppSessionData {
  views?: number
  user?: string
}

function sessionOf(req: Request): Request['session'] & AppSessionData {
  return req.session
}

type SessionOptions = NonNullable<Parameters<typeof session>[0]>

export interface AppOptions {
  /** Where sessions live: a Tether store (SqliteStore, ...) or any express-session store. */
  store: NonNullable<SessionOptions['store']>
  /** Secret(s) signing the session cookie; with a list, the first signs and all verify. */
  secret: string | string[]
}

const DEMO_USER = 'alice'
const SCRYPT_KEY_BYTES = 32

/** Hashes a password with scrypt (Node's defaults: N=16384, r=8, p=1). */
function hashPassword(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise(function hashing(resolve, reject) {
    scrypt(password, salt, SCRYPT_KEY_BYTES, function hashed(err, key) {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

/** The demo user's password check: one scrypt per attempt, whatever the username (no timing hint). */
function createPasswordCheck(): (username: unknown, password: unknown) => Promise<boolean> {
  const salt = randomBytes(16)
  const demoHash = scryptSync('correct-horse', salt, SCRYPT_KEY_BYTES)
  return async function checkPassword(username, password) {
    if (typeof username !== 'string' || typeof password !== 'string') return false
    const hash = await hashPassword(password, salt)
    return timingSafeEqual(hash, demoHash) && username === DEMO_USER
  }
}

/**
 * Refuses unsafe requests a browser marks as cross-site. The session cookie is SameSite=Lax, so it
 * is not sent on them anyway; this also stops a cross-site form from logging a visitor in.
 */
function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.get('sec-fetch-site') === 'cross-site') {
    res.status(403).type('text').send('cross-site request refused')
    return
  }
  next()
}

/** JSON clients (a JSON body, or Accept preferring JSON) get JSON; HTML forms get a redirect. */
function wantsJson(req: Request): boolean {
  return (
    req.is('application/json') === 'application/json' || req.accepts(['html', 'json']) === 'json'
  )
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function homePage(views: number, user: string | undefined): string {
  const account =
    user === undefined
      ? `<form method="post" action="/login">
<label>Username <input name="username" autocomplete="username" value="alice"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button>Log in</button> <small>(alice / correct-horse)</small>
</form>`
      : `<p>Logged in as <strong>${escapeHtml(user)}</strong>.</p>
<form method="post" action="/logout"><button>Log out</button></form>`
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Tether example</title>
<h1>Tether example</h1>
<p>Visits in this session: <strong id="views">${views}</strong></p>
${account}
`
}

/** Builds the app; the caller owns the store and closes it. */
export function createApp({ store, secret }: AppOptions): express.Express {
  const app = express()
  const checkPassword = createPasswordCheck()
  app.use(refuseCrossSite)
  app.use(
    session({
      secret,
      store,
      resave: false,
      saveUninitialized: false,
      // Tether caps the cookie's Expires at the session's absolute lifetime (8 h by default).
      cookie: { maxAge: 24 * 60 * 60 * 1000 },
    }),
  )
  app.use(express.urlencoded({ extended: false, limit: '4kb' }))
  app.use(express.json({ limit: '4kb' }))

  app.get('/', function home(req, res) {
    const sess = sessionOf(req)
    sess.views = (sess.views ?? 0) + 1
    res.type('html').send(homePage(sess.views, sess.user))
  })

  app.post('/login', async function login(req, res) {
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown }
    const json = wantsJson(req)
    if (!(await checkPassword(body.username, body.password))) {
      res.status(401)
      if (json) res.json({ ok: false, error: 'wrong username or password' })
      else res.type('text').send('Wrong username or password.')
      return
    }
    // A new session id, the data kept: a cookie planted before login is worth nothing after it.
    await req.session.login(DEMO_USER)
    // Set after login, on the new session: had login failed, the old one must not hold the user.
    sessionOf(req).user = DEMO_USER
    if (json) res.json({ ok: true, user: DEMO_USER })
    else res.redirect(303, '/')
  })

  app.post('/logout', async function logout(req, res) {
    await req.session.logout()
    if (wantsJson(req)) res.json({ ok: true })
    else res.redirect(303, '/')
  })

  app.get('/api/me', function me(req, res) {
    const sess = sessionOf(req)
    res.json({ user: sess.user ?? null, views: sess.views ?? 0 })
  })

  return app
}
