/**
 * The Express adapter's origin check (on by default), its options and its 403 answers, over real
 * HTTP on 127.0.0.1. Each case shows, in a comment, the page an attacker would serve; the requests
 * carry the headers a browser sends for it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import express from 'express'
import session, { csrfToken, tetherErrorHandler } from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import { listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { EVIL, assertNoSecrets, assertRefused, login, post, server } from './server.js'

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
    assert.throws(() => csrfToken({}), /needs the tether-session middleware/)
  })
})
