/**
 * CSRF protection of the Express adapter over real HTTP on 127.0.0.1. Each case shows, in a
 * comment, the page an attacker would serve; the requests carry the headers a browser sends for it.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session, { csrfToken, tetherErrorHandler } from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send, type RawResponse } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

const EVIL = 'https://evil.example'

async function server(t: TestContext, options: Partial<ExpressSessionOptions> = {}) {
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore())
  const mw = session({
    secret: newSecret(),
    store,
    classes: { admin: { secret: newSecret() } },
    onEvent: (e) => events.push(e),
    ...options,
  })
  const app = express()
  // Before the session: the token check reads the `_csrf` field of the parsed form.
  app.use(express.urlencoded({ extended: false }))
  app.use(mw)
  app.get('/token', function token(req, res) {
    res.json({ token: csrfToken(req) })
  })
  app.get('/visit', function visit(req, res) {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ token: csrfToken(req) })
  })
  app.post('/login/:user', async function login(req, res) {
    const cls = req.query['class']
    await req.session.login(req.params.user, typeof cls === 'string' ? { class: cls } : {})
    res.json({ token: csrfToken(req) })
  })
  app.post('/logout', async function logout(req, res) {
    await req.session.logout()
    res.json({ ok: true })
  })
  app.all('/transfer', function transfer(req, res) {
    res.json({ ok: true, user: req.session.authAge === null ? null : 'someone' })
  })
  app.use(tetherErrorHandler())
  const srv = await listen(app)
  t.after(() => srv.close())
  return {
    ...srv,
    store,
    events,
    /** Reasons of the csrf.rejected events so far. */
    rejected: () => events.filter((e) => e.type === 'csrf.rejected').map((e) => e.reason),
  }
}

type Server = Awaited<ReturnType<typeof server>>

/** A pre-session token and its nonce cookie, as the login page gets them. */
async function loginPage(s: Server): Promise<{ token: string; nonce: string }> {
  const res = await send(s.port, { path: '/token' })
  return { token: JSON.parse(res.body).token, nonce: cookiePair(res, 'csrf')! }
}

/** Logs `user` in through the login form (with its pre-session token); the session's cookie and token. */
async function login(
  s: Server,
  user: string,
  cls?: string,
): Promise<{ cookie: string; token: string }> {
  const page = await loginPage(s)
  const res = await send(s.port, {
    method: 'POST',
    path: `/login/${user}${cls ? `?class=${cls}` : ''}`,
    headers: { cookie: page.nonce, 'x-csrf-token': page.token },
  })
  assert.equal(res.status, 200, res.body)
  return { cookie: cookiePair(res, 'sid')!, token: JSON.parse(res.body).token }
}

function post(
  s: Server,
  headers: Record<string, string>,
  path = '/transfer',
): Promise<RawResponse> {
  return send(s.port, { method: 'POST', path, headers })
}

/** No event may carry a token, nonce, cookie value or session id (DESIGN "Security events"). */
function assertNoSecrets(events: TetherEvent[], secrets: string[]): void {
  const json = JSON.stringify(events)
  for (const secret of secrets) {
    const value = secret.includes('=') ? secret.slice(secret.indexOf('=') + 1) : secret
    assert.ok(value.length >= 16, 'a real secret to look for')
    assert.ok(!json.includes(value), 'an event carries a token, cookie or id')
    const id = value.split('.')[3]
    if (value.startsWith('t1.') && id !== undefined)
      assert.ok(!json.includes(id), 'an event carries an id')
  }
}

function assertRefused(res: RawResponse): void {
  assert.equal(res.status, 403)
  assert.equal(JSON.parse(res.body).error, 'TETHER_CSRF_REJECTED')
}

describe('csrf: Origin and Sec-Fetch-Site (on by default)', () => {
  it('refuses a cross-site POST with a foreign Origin before any store I/O', async (t) => {
    const s = await server(t)
    const { cookie } = await login(s, 'alice')
    const before = s.store.total()
    // On https://evil.example, from a browser without Fetch Metadata:
    // <form method="post" action="http://app/transfer"><input name="to" value="mallory"></form>
    // <script>document.forms[0].submit()</script>
    const res = await post(s, {
      cookie,
      origin: EVIL,
      'content-type': 'application/x-www-form-urlencoded',
    })
    assertRefused(res)
    assert.equal(s.store.total(), before, 'no store call for a refused request')
    assert.deepEqual(s.rejected(), ['origin-mismatch'])
    const event = s.events.find((e) => e.type === 'csrf.rejected')!
    assert.equal(event.path, '/transfer')
    assert.equal(event.ip, '127.0.0.1')
    assertNoSecrets(s.events, [cookie])
  })

  it('refuses a POST the browser marks Sec-Fetch-Site: cross-site', async (t) => {
    const s = await server(t)
    const { cookie, token } = await login(s, 'alice')
    // On https://evil.example: fetch('http://app/transfer', { method: 'POST', credentials: 'include', mode: 'no-cors' })
    const res = await post(s, { cookie, origin: EVIL, 'sec-fetch-site': 'cross-site' })
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['cross-site'])
    assertNoSecrets(s.events, [cookie, token])
  })

  it('refuses Origin: null from a sandboxed frame', async (t) => {
    const s = await server(t)
    // On evil.example: <iframe sandbox="allow-forms allow-scripts" srcdoc="<form method=post action=http://app/transfer>...">
    const res = await post(s, { origin: 'null' })
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['origin-null'])
  })

  it('refuses a same-site POST from a sibling subdomain', async (t) => {
    const s = await server(t, { proxy: true })
    // On https://evil.app.example (a sibling someone else runs):
    // <form method="post" action="https://app.example/transfer">...</form>
    const res = await post(s, {
      host: 'app.example',
      'x-forwarded-proto': 'https',
      origin: 'https://evil.app.example',
      'sec-fetch-site': 'same-site',
    })
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['same-site'])
  })

  it('allows the sibling subdomain once its origin is trusted', async (t) => {
    const s = await server(t, {
      proxy: true,
      csrf: { trustedOrigins: ['https://www.app.example'] },
    })
    // On https://www.app.example (our own front end): <form method="post" action="https://app.example/transfer">
    const headers = { host: 'app.example', 'x-forwarded-proto': 'https' }
    const trusted = await post(s, {
      ...headers,
      origin: 'https://www.app.example',
      'sec-fetch-site': 'same-site',
    })
    assert.equal(trusted.status, 200)
    const oldBrowser = await post(s, { ...headers, origin: 'https://www.app.example' })
    assert.equal(oldBrowser.status, 200)
    const other = await post(s, {
      ...headers,
      origin: 'https://evil.app.example',
      'sec-fetch-site': 'same-site',
    })
    assertRefused(other)
    assert.deepEqual(s.rejected(), ['same-site'], 'one event, for the refused one only')
  })

  it('allows same-origin POSTs, with or without Fetch Metadata', async (t) => {
    const s = await server(t)
    const { cookie } = await login(s, 'alice')
    const self = s.url
    for (const headers of [
      { cookie, origin: self, 'sec-fetch-site': 'same-origin' },
      { cookie, origin: self },
      { cookie, 'sec-fetch-site': 'none' },
    ]) {
      const res = await post(s, headers)
      assert.equal(res.status, 200, JSON.stringify(headers))
      assert.equal(JSON.parse(res.body).user, 'someone')
    }
    assert.deepEqual(s.rejected(), [])
  })

  it('compares Origin with X-Forwarded-Host and -Proto behind a trusted proxy', async (t) => {
    const s = await server(t, { proxy: true })
    const headers = {
      host: 'internal:3000',
      'x-forwarded-host': 'app.example',
      'x-forwarded-proto': 'https',
    }
    assert.equal((await post(s, { ...headers, origin: 'https://app.example' })).status, 200)
    // A page on http://app.example (a downgraded or spoofed scheme) is another origin.
    assertRefused(await post(s, { ...headers, origin: 'http://app.example' }))
    assert.deepEqual(s.rejected(), ['origin-mismatch'])
  })

  it('ignores X-Forwarded-Host from an untrusted client', async (t) => {
    const s = await server(t, { proxy: false })
    // A client cannot make its foreign Origin look like ours by naming it in X-Forwarded-Host.
    const res = await post(s, { 'x-forwarded-host': 'evil.example', origin: 'http://evil.example' })
    assertRefused(res)
  })

  it('allows cross-site GETs (safe methods are not checked)', async (t) => {
    const s = await server(t)
    // On evil.example: <img src="http://app/transfer">
    const res = await send(s.port, {
      path: '/transfer',
      headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(s.rejected(), [])
  })

  it('allows a POST with neither Origin nor Sec-Fetch-Site (non-browser clients; documented)', async (t) => {
    const s = await server(t)
    // curl -X POST http://app/transfer: no browser, so no ambient cookie to abuse.
    const res = await post(s, {})
    assert.equal(res.status, 200)
    assert.deepEqual(s.rejected(), [])
  })

  it('does nothing with csrf: false', async (t) => {
    const s = await server(t, { csrf: false })
    const res = await post(s, { origin: EVIL, 'sec-fetch-site': 'cross-site' })
    assert.equal(res.status, 200)
    assert.deepEqual(s.rejected(), [])
  })
})

describe('csrf: tokens ({ token: true })', () => {
  const options = { csrf: { token: true } }

  it('refuses an unsafe request on a session without a token', async (t) => {
    const s = await server(t, options)
    const { cookie, token } = await login(s, 'alice')
    // On a page that passes the origin check (an old browser, or an XSS-free sibling the admin trusted):
    // <form method="post" action="/transfer"><input name="to" value="mallory"></form>
    const res = await post(s, { cookie })
    assertRefused(res)
    assert.match(JSON.parse(res.body).message, /missing CSRF token/)
    assert.deepEqual(s.rejected(), ['token-missing'])
    const event = s.events.find((e) => e.type === 'csrf.rejected')!
    assert.equal(event.userId, 'alice')
    assert.match(event.ref!, /^[A-Za-z0-9_-]{22}$/, 'the non-reversible reference, not the id')
    assertNoSecrets(s.events, [cookie, token])
  })

  it('accepts the session token as header x-csrf-token', async (t) => {
    const s = await server(t, options)
    const { cookie, token } = await login(s, 'alice')
    const res = await post(s, { cookie, 'x-csrf-token': token })
    assert.equal(res.status, 200)
    const viaGet = JSON.parse((await send(s.port, { path: '/token', headers: { cookie } })).body)
    assert.equal(viaGet.token, token, 'csrfToken(req) is stable for a session')
    assert.deepEqual(s.rejected(), [])
  })

  it('accepts the session token as form field _csrf', async (t) => {
    const s = await server(t, options)
    const { cookie, token } = await login(s, 'alice')
    const res = await send(s.port, {
      method: 'POST',
      path: '/transfer',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ to: 'bob', _csrf: token }).toString(),
    })
    assert.equal(res.status, 200)
    assert.deepEqual(s.rejected(), [])
  })

  it('never reads the token from the query string', async (t) => {
    const s = await server(t, options)
    const { cookie, token } = await login(s, 'alice')
    // Query strings leak into logs and Referer headers.
    const res = await post(s, { cookie }, `/transfer?_csrf=${token}`)
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['token-missing'])
    assertNoSecrets(s.events, [cookie, token])
  })

  it("refuses another session's token", async (t) => {
    const s = await server(t, options)
    const victim = await login(s, 'alice')
    const attacker = await login(s, 'mallory')
    // The attacker puts their own valid token in the form:
    // <form method="post" action="/transfer"><input name="_csrf" value="(mallory's token)"></form>
    const res = await post(s, { cookie: victim.cookie, 'x-csrf-token': attacker.token })
    assertRefused(res)
    assert.match(JSON.parse(res.body).message, /invalid CSRF token/)
    assert.deepEqual(s.rejected(), ['token-invalid'])
    assertNoSecrets(s.events, [victim.cookie, victim.token, attacker.cookie, attacker.token])
  })

  it("refuses another session class's token", async (t) => {
    const s = await server(t, options)
    const admin = await login(s, 'root', 'admin')
    const user = await login(s, 'alice')
    assert.equal((await post(s, { cookie: admin.cookie, 'x-csrf-token': admin.token })).status, 200)
    // <form method="post" action="/transfer"><input name="_csrf" value="(an admin session's token)"></form>
    assertRefused(await post(s, { cookie: user.cookie, 'x-csrf-token': admin.token }))
    assertRefused(await post(s, { cookie: admin.cookie, 'x-csrf-token': user.token }))
    assert.deepEqual(s.rejected(), ['token-invalid', 'token-invalid'])
    assertNoSecrets(s.events, [admin.cookie, admin.token, user.cookie, user.token])
  })

  it('refuses a token replayed after logout', async (t) => {
    const s = await server(t, options)
    const { cookie, token } = await login(s, 'alice')
    const out = await post(s, { cookie, 'x-csrf-token': token }, '/logout')
    assert.equal(out.status, 200)
    // A token captured before logout (from a cached page) is sent again, with or without the old cookie:
    // <form method="post" action="/transfer"><input name="_csrf" value="(the old token)"></form>
    assertRefused(await post(s, { cookie, 'x-csrf-token': token }))
    assertRefused(await post(s, { 'x-csrf-token': token }))
    assert.deepEqual(s.rejected(), ['token-invalid', 'token-invalid'])
    assertNoSecrets(s.events, [cookie, token])
  })

  it('refuses the pre-login token after login', async (t) => {
    const s = await server(t, options)
    const page = await loginPage(s)
    const res = await post(s, { cookie: page.nonce, 'x-csrf-token': page.token }, '/login/alice')
    assert.equal(res.status, 200)
    const cookie = `${cookiePair(res, 'sid')!}; ${page.nonce}`
    // The login page's token, still in a form of another tab:
    // <form method="post" action="/transfer"><input name="_csrf" value="(pre-login token)"></form>
    assertRefused(await post(s, { cookie, 'x-csrf-token': page.token }))
    assert.equal(
      (await post(s, { cookie, 'x-csrf-token': JSON.parse(res.body).token })).status,
      200,
    )
    assert.deepEqual(s.rejected(), ['token-invalid'])
    assertNoSecrets(s.events, [cookie, page.token, page.nonce])
  })

  it('accepts a pre-session token on an anonymous session created while the page was served', async (t) => {
    const s = await server(t, options)
    // GET /visit stores an anonymous session and renders a form in the same response.
    const res = await send(s.port, { path: '/visit' })
    const cookie = `${cookiePair(res, 'sid')!}; ${cookiePair(res, 'csrf')!}`
    const token = JSON.parse(res.body).token as string
    assert.match(token, /^p\./)
    assert.equal((await post(s, { cookie, 'x-csrf-token': token })).status, 200)
    assert.deepEqual(s.rejected(), [])
  })
})

describe('csrf: login CSRF (pre-session tokens)', () => {
  const options = { csrf: { token: true } }

  it('refuses a login without a token', async (t) => {
    const s = await server(t, options)
    // The attacker logs the victim into the attacker's account, to read what the victim then saves:
    // <form method="post" action="/login/mallory"><input name="password" value="..."></form>
    const res = await post(s, {}, '/login/mallory')
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['token-missing'])
    assert.equal(s.events.find((e) => e.type === 'csrf.rejected')!.userId, undefined)
    assert.equal(s.store.calls.create, 0, 'nobody was logged in')
  })

  it("refuses a pre-session token made for another browser's nonce", async (t) => {
    const s = await server(t, options)
    const victim = await loginPage(s)
    const attacker = await loginPage(s)
    // The attacker fetched the login page themselves and copies its token into the form:
    // <form method="post" action="/login/mallory"><input name="_csrf" value="(attacker's token)"></form>
    const res = await post(
      s,
      { cookie: victim.nonce, 'x-csrf-token': attacker.token },
      '/login/mallory',
    )
    assertRefused(res)
    assert.deepEqual(s.rejected(), ['token-invalid'])
    assertNoSecrets(s.events, [victim.nonce, victim.token, attacker.nonce, attacker.token])
  })

  it('logs in with the matching nonce cookie and token', async (t) => {
    const s = await server(t, options)
    const page = await loginPage(s)
    assert.match(page.nonce, /^csrf=[A-Za-z0-9_-]{22}$/)
    const again = JSON.parse(
      (await send(s.port, { path: '/token', headers: { cookie: page.nonce } })).body,
    )
    assert.equal(again.token, page.token, 'the nonce cookie is reused, not replaced')
    const res = await send(s.port, {
      method: 'POST',
      path: '/login/alice',
      headers: { cookie: page.nonce, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(page.token)}`,
    })
    assert.equal(res.status, 200)
    assert.deepEqual(s.rejected(), [])
  })

  it('sets the nonce cookie HttpOnly, SameSite=Lax, and __Host- over https', async (t) => {
    const s = await server(t, { ...options, proxy: true })
    const plain = await send(s.port, { path: '/token' })
    assert.match(plain.setCookies[0]!, /^csrf=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/)
    const https = await send(s.port, { path: '/token', headers: { 'x-forwarded-proto': 'https' } })
    assert.match(
      https.setCookies[0]!,
      /^__Host-csrf=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
  })

  it('exempts requests without a session with preSession: false (the origin check still runs)', async (t) => {
    const s = await server(t, { csrf: { token: true, preSession: false } })
    const res = await post(s, {}, '/login/alice')
    assert.equal(res.status, 200)
    assertRefused(await post(s, { origin: EVIL }, '/login/alice'))
    const cookie = cookiePair(res, 'sid')!
    assertRefused(await post(s, { cookie }))
    assert.equal(
      (await post(s, { cookie, 'x-csrf-token': JSON.parse(res.body).token })).status,
      200,
    )
    assert.deepEqual(s.rejected(), ['origin-mismatch', 'token-missing'])
  })
})

describe('csrf: options and errors', () => {
  it('refuses invalid csrf options at startup, naming the option', () => {
    const secret = newSecret()
    const cases: [unknown, RegExp][] = [
      ['yes', /"csrf" must be true, false or an object/],
      [{ tokens: true }, /"csrf.tokens" is not an option/],
      [{ token: 'on' }, /"csrf.token" must be true or false/],
      [{ trustedOrigins: 'https://a.example' }, /"csrf.trustedOrigins" must be an array/],
      [
        { trustedOrigins: ['https://a.example/'] },
        /"csrf.trustedOrigins\[0\]".*did you mean "https:\/\/a.example"/,
      ],
      [
        { trustedOrigins: ['https://a.example', 'https://a.example/login'] },
        /"csrf.trustedOrigins\[1\]"/,
      ],
      [{ trustedOrigins: ['*.example.com'] }, /"csrf.trustedOrigins\[0\]" must be an origin/],
      [{ trustedOrigins: ['HTTPS://A.example'] }, /did you mean "https:\/\/a.example"/],
      [{ trustedOrigins: ['null'] }, /"csrf.trustedOrigins\[0\]"/],
      [{ trustedOrigins: ['ftp://a.example'] }, /"csrf.trustedOrigins\[0\]"/],
      [{ ignoreMethods: ['GET', 'PO ST'] }, /"csrf.ignoreMethods\[1\]"/],
    ]
    for (const [csrf, message] of cases) {
      assert.throws(() => session({ secret, csrf } as ExpressSessionOptions), {
        code: 'TETHER_INVALID_OPTION',
        message,
      })
    }
    assert.doesNotThrow(() =>
      session({ secret, csrf: { trustedOrigins: ['http://localhost:5173'] } }),
    )
  })

  it('answers HTML to browsers and JSON to scripts, with no stack', async (t) => {
    const s = await server(t)
    const html = await post(s, { origin: EVIL, accept: 'text/html,application/xhtml+xml' })
    assert.equal(html.status, 403)
    assert.match(String(html.headers['content-type']), /^text\/html/)
    assert.match(html.body, /<h1>Forbidden<\/h1>/)
    assert.match(html.body, /another site/)
    assert.doesNotMatch(html.body, / at /, 'no stack trace')
    const json = await post(s, { origin: EVIL, accept: '*/*' })
    assert.equal(json.headers['cache-control'], 'no-store')
    assert.deepEqual(Object.keys(JSON.parse(json.body)), ['error', 'message'])
  })

  it('answers a store outage 503 with Retry-After', async (t) => {
    const s = await server(t)
    const { cookie } = await login(s, 'alice')
    s.store.failing = true
    const res = await send(s.port, { path: '/transfer', headers: { cookie } })
    assert.equal(res.status, 503)
    assert.equal(res.headers['retry-after'], '1')
    assert.equal(JSON.parse(res.body).error, 'TETHER_STORE_UNAVAILABLE')
  })

  it('passes other errors on', async (t) => {
    const app = express()
    app.set('env', 'test') // keeps Express's final handler from printing the stack
    app.get('/', function boom() {
      throw Object.assign(new Error('boom'), { status: 418 })
    })
    app.use(tetherErrorHandler())
    const srv = await listen(app)
    t.after(() => srv.close())
    assert.equal((await send(srv.port, { path: '/' })).status, 418)
  })

  it('refuses to make a token without the session middleware', () => {
    assert.throws(() => csrfToken({} as never), /needs the tether-session middleware/)
  })
})
