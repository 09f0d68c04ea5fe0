/**
 * The Koa adapter's own API, beyond the behaviour suite every adapter passes (matrix.test.ts):
 * `ctx.session = null` and `ctx.session = { ... }` as in koa-session, a `_csrf` field a body
 * parser put on `ctx.request.body`, and Koa's `app.proxy` deciding https and the client address.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import Koa from 'koa'
import { session, type KoaSessionOptions } from '../../src/adapters/koa/index.js'
import { csrfToken } from '../../src/csrf/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, sameOriginCaller } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

/** A urlencoded body parser, as koa-bodyparser does it: the fields on `ctx.request.body`. */
const parseForm: Koa.Middleware = async function parseForm(ctx, next) {
  if (ctx.is('application/x-www-form-urlencoded')) {
    let text = ''
    for await (const chunk of ctx.req) text += String(chunk)
    ;(ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(text))
  }
  await next()
}

/** The session's data: its own properties but `cookie`. */
function dataOf(s: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s).filter(([key]) => key !== 'cookie'))
}

async function server(
  t: TestContext,
  options: Partial<KoaSessionOptions> = {},
  setup?: (app: Koa) => void,
) {
  const store = spyStore(new MemoryStore())
  t.after(() => store.close?.())
  const events: TetherEvent[] = []
  const app = new Koa()
  app.silent = true
  setup?.(app)
  app.use(session({ secret: newSecret(), store, onEvent: (e) => events.push(e), ...options }))
  app.use(function routes(ctx) {
    if (ctx.path === '/write') (ctx.session as unknown as Record<string, unknown>)['a'] = 1
    else if (ctx.path === '/drop') ctx.session = null
    else if (ctx.path === '/replace')
      ctx.session = { b: 2 } as never // b: not in SessionData here
    else if (ctx.path === '/csrf') return void (ctx.body = { token: csrfToken(ctx) })
    else if (ctx.path === '/form')
      return void (ctx.body = { body: (ctx.request as { body?: unknown }).body })
    ctx.body = { data: ctx.session === null ? null : dataOf(ctx.session) }
  })
  const callback = app.callback()
  const srv = await listen(createServer((req, res) => void callback(req, res)))
  t.after(() => srv.close())
  return { store, events, call: sameOriginCaller(srv.port) }
}

describe('koa adapter', () => {
  it('ends the session and clears its cookie when a route sets ctx.session = null', async (t) => {
    const { store, call } = await server(t)
    const cookie = cookiePair(await call('POST', '/write'), 'sid')!
    const dropped = await call('POST', '/drop', { cookie })
    assert.equal(dropped.status, 200)
    assert.deepEqual(JSON.parse(dropped.body), { data: null })
    assert.match(dropped.setCookies.join('\n'), /^sid=;.*Expires=Thu, 01 Jan 1970/m)
    assert.equal(dropped.headers['cache-control'], 'no-store')
    assert.equal(store.calls.destroy, 1)
    assert.deepEqual(JSON.parse((await call('GET', '/read', { cookie })).body), { data: {} })
  })

  it('sets no cookie and touches no store when ctx.session = null has no session to end', async (t) => {
    const { store, call } = await server(t)
    const res = await call('POST', '/drop')
    assert.equal(res.status, 200)
    assert.deepEqual(res.setCookies, [])
    assert.equal(store.total(), 0)
  })

  it('replaces the data, under the same session, when a route assigns an object to ctx.session', async (t) => {
    const { call } = await server(t)
    const cookie = cookiePair(await call('POST', '/write'), 'sid')!
    const replaced = await call('POST', '/replace', { cookie })
    assert.deepEqual(JSON.parse(replaced.body), { data: { b: 2 } })
    assert.deepEqual(JSON.parse((await call('GET', '/read', { cookie })).body), {
      data: { b: 2 },
    })
  })

  it('accepts the _csrf field a body parser mounted before it put on ctx.request.body', async (t) => {
    const { call } = await server(t, { csrf: { token: true } }, (app) => app.use(parseForm))
    const issued = await call('GET', '/csrf')
    const nonce = cookiePair(issued, 'csrf')!
    const { token } = JSON.parse(issued.body) as { token: string }
    const form = { cookie: nonce, 'content-type': 'application/x-www-form-urlencoded' }
    // <form method=post> of the site's own page, with <input type=hidden name=_csrf>:
    const ok = await call('POST', '/form', form, `_csrf=${encodeURIComponent(token)}&name=ann`)
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(ok.body), { body: { _csrf: token, name: 'ann' } })
    // The same form without the field (a same-site attacker's copy of it):
    const refused = await call('POST', '/form', form, 'name=ann')
    assert.equal(refused.status, 403)
    assert.equal(JSON.parse(refused.body).error, 'TETHER_CSRF_REJECTED')
  })

  it("takes https and the client's address from the proxy's headers when app.proxy is on", async (t) => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' }
    const proxied = await server(t, {}, (app) => (app.proxy = true))
    const res = await proxied.call('POST', '/write', forwarded)
    assert.match(res.setCookies[0] ?? '', /^__Host-sid=[^;]+;.*Secure/)
    assert.equal(proxied.events.find((e) => e.type === 'session.created')?.ip, '203.0.113.9')
    // Without app.proxy, the same headers are anyone's to send: plain http, the socket's address.
    const direct = await server(t)
    const plain = await direct.call('POST', '/write', forwarded)
    assert.match(plain.setCookies[0] ?? '', /^sid=/)
    assert.equal(direct.events.find((e) => e.type === 'session.created')?.ip, '127.0.0.1')
  })
})
