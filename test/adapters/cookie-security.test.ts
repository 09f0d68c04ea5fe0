/**
 * `Secure` and the `__Host-` / `__Secure-` prefixes (ASVS 3.3.1, 3.3.3): names browsers would drop
 * with the given attributes are refused at startup (or, for a cookie function, on the request),
 * and in production the first session cookie about to go out without `Secure` gets one warning
 * naming the fix (trust proxy / `proxy: true`, https, or `cookie.secure`).
 */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session, { tetherErrorHandler } from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { capturedWarnings } from '../helpers/warnings.js'

/** NODE_ENV as given for the rest of the test. */
function nodeEnv(t: TestContext, value: string | undefined): void {
  const before = process.env['NODE_ENV']
  if (value === undefined) delete process.env['NODE_ENV']
  else process.env['NODE_ENV'] = value
  t.after(() => {
    if (before === undefined) delete process.env['NODE_ENV']
    else process.env['NODE_ENV'] = before
  })
}

/** An app whose GET / writes to the session (so its cookie goes out); `trustProxy` as Express's. */
async function server(t: TestContext, options: Partial<ExpressSessionOptions>, trustProxy = false) {
  const app = express()
  app.set('trust proxy', trustProxy)
  const mw = session({ secret: newSecret(), store: new MemoryStore(), ...options })
  t.after(() => mw.manager.close())
  app.use(mw)
  app.get('/', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.end()
  })
  app.use(tetherErrorHandler())
  const srv = await listen(app)
  t.after(() => srv.close())
  return srv
}

const HTTPS_PROXY = { 'x-forwarded-proto': 'https' }

describe('cookie prefixes', () => {
  const refusals: [string, Partial<ExpressSessionOptions>, string][] = [
    [
      '__Host- with a domain',
      { name: '__Host-sid', cookie: { domain: 'example.com' } },
      '"name" "__Host-sid" cannot be used with "cookie.domain": browsers drop a __Host- cookie ' +
        'that has a Domain attribute. Remove "cookie.domain" (the cookie is then host-only), or ' +
        'use a name without the __Host- prefix to share the cookie with other hosts',
    ],
    [
      '__Host- with a path other than /',
      { name: '__Host-sid', cookie: { path: '/app' } },
      '"name" "__Host-sid" needs "cookie.path" "/" (got "/app"): browsers drop a __Host- cookie ' +
        'with any other Path. Set "cookie.path" to "/", or use a name without the __Host- prefix',
    ],
    [
      '__Host- with secure false',
      { name: '__Host-sid', cookie: { secure: false } },
      '"name" "__Host-sid" cannot be used with "cookie.secure" false: browsers drop a __Host- ' +
        'cookie without Secure. Set "cookie.secure" to true or "auto" (behind a TLS proxy, with ' +
        'app.set(\'trust proxy\', ...) or "proxy": true)',
    ],
    [
      '__Secure- with secure false',
      { name: '__Secure-sid', cookie: { secure: false } },
      '"name" "__Secure-sid" cannot be used with "cookie.secure" false: browsers drop a ' +
        '__Secure- cookie without Secure. Set "cookie.secure" to true or "auto" (behind a TLS ' +
        'proxy, with app.set(\'trust proxy\', ...) or "proxy": true)',
    ],
    [
      'a lower-case __host- prefix (browsers match it in any case)',
      { key: '__host-sid', cookie: { domain: 'example.com' } },
      '"name" "__host-sid" cannot be used with "cookie.domain": browsers drop a __Host- cookie ' +
        'that has a Domain attribute. Remove "cookie.domain" (the cookie is then host-only), or ' +
        'use a name without the __Host- prefix to share the cookie with other hosts',
    ],
  ]
  for (const [what, options, message] of refusals) {
    it(`refuses ${what} at startup`, (t) => {
      t.mock.method(process, 'emitWarning', () => {}) // the deprecated `key` alias warns
      assert.throws(() => session({ secret: newSecret(), ...options }), {
        code: 'TETHER_INVALID_OPTION',
        message,
      })
    })
  }

  it('accepts the prefixes with attributes browsers keep', (t) => {
    for (const options of [
      { name: '__Host-sid', cookie: { path: '/', secure: true } },
      { name: '__Host-sid' },
      { name: '__Secure-sid', cookie: { domain: 'example.com', path: '/app' } },
    ] satisfies Partial<ExpressSessionOptions>[]) {
      const mw = session({ secret: newSecret(), ...options })
      t.after(() => mw.manager.close())
    }
  })

  it('refuses a cookie function result that breaks the prefix on the request, over HTTP', async (t) => {
    const cookie = (_req: IncomingMessage) => ({ domain: 'example.com' })
    const srv = await server(t, { name: '__Host-sid', cookie })
    const res = await send(srv.port, { headers: { accept: 'application/json' } })
    assert.equal(res.status, 500)
    assert.equal(JSON.parse(res.body).error, 'TETHER_INVALID_OPTION')
    assert.match(
      JSON.parse(res.body).message,
      /"name" "__Host-sid" cannot be used with "cookie.domain"/,
    )
    assert.deepEqual(res.setCookies, [])
  })
})

describe('cookie without Secure in production', () => {
  it('warns once, naming trust proxy, when a TLS proxy is not trusted', async (t) => {
    nodeEnv(t, 'production')
    const warnings = capturedWarnings(t, 'TETHER_INSECURE_COOKIE')
    const srv = await server(t, {})
    for (let i = 0; i < 3; i++) {
      const res = await send(srv.port, { headers: HTTPS_PROXY })
      assert.match(res.setCookies[0]!, /^sid=/)
      assert.doesNotMatch(res.setCookies[0]!, /Secure/)
    }
    assert.deepEqual(warnings, [
      'tether-session: a session cookie went out without Secure, because the request did not ' +
        "arrive over https as far as Express can tell. Behind a TLS proxy, set app.set('trust " +
        'proxy\', ...) (or the "proxy": true option) so X-Forwarded-Proto counts; otherwise serve ' +
        'the app over https',
    ])
  })

  it('warns once, naming cookie.secure, when it is false', async (t) => {
    nodeEnv(t, 'production')
    const warnings = capturedWarnings(t, 'TETHER_INSECURE_COOKIE')
    const srv = await server(t, { cookie: { secure: false } }, true)
    for (let i = 0; i < 2; i++) await send(srv.port, { headers: HTTPS_PROXY })
    assert.deepEqual(warnings, [
      'tether-session: a session cookie went out without Secure, because "cookie.secure" is ' +
        'false. Set it to true or "auto" (the default), so the cookie cannot leak over plain http',
    ])
  })

  it('says nothing when the cookie goes out Secure', async (t) => {
    nodeEnv(t, 'production')
    const warnings = capturedWarnings(t, 'TETHER_INSECURE_COOKIE')
    const srv = await server(t, {}, true)
    const res = await send(srv.port, { headers: HTTPS_PROXY })
    assert.match(res.setCookies[0]!, /^__Host-sid=.*; Secure/)
    assert.deepEqual(warnings, [])
  })

  it('says nothing outside production', async (t) => {
    nodeEnv(t, 'development')
    const warnings = capturedWarnings(t, 'TETHER_INSECURE_COOKIE')
    const srv = await server(t, { cookie: { secure: false } })
    await send(srv.port)
    nodeEnv(t, undefined)
    const other = await server(t, {})
    await send(other.port, { headers: HTTPS_PROXY })
    assert.deepEqual(warnings, [])
  })
})
