/**
 * The Express adapter's token check (`csrf: { token: true }`), login CSRF included, over real HTTP
 * on 127.0.0.1. Each case shows, in a comment, the page an attacker would serve.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cookiePair, send } from '../helpers/http.js'
import { EVIL, assertNoSecrets, assertRefused, login, loginPage, post, server } from './server.js'

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
