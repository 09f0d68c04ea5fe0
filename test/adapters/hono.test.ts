/**
 * The Hono adapter's own API, beyond the behaviour suite every adapter passes (matrix.test.ts), on
 * @hono/node-server over real HTTP: `c.get('session')`, an `app.onError` that sees Tether's
 * errors, a form's `_csrf` field with the body left for the route, and the client's address.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { Hono } from 'hono'
import { session, type HonoSessionOptions, type SessionEnv } from '../../src/adapters/hono/index.js'
import { csrfToken } from '../../src/csrf/index.js'
import { isTetherError } from '../../src/errors.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, sameOriginCaller } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { serveFetch } from './matrix/apps.js'

async function server(
  t: TestContext,
  options: Partial<HonoSessionOptions> = {},
  routes?: (app: Hono<SessionEnv>) => void,
) {
  const store = spyStore(new MemoryStore())
  t.after(() => store.close?.())
  const events: TetherEvent[] = []
  const app = new Hono<SessionEnv>()
  app.use(session({ secret: newSecret(), store, onEvent: (e) => events.push(e), ...options }))
  app.post('/write', (c) => {
    ;(c.get('session') as unknown as Record<string, unknown>)['a'] = 1
    return c.json({ ok: true })
  })
  routes?.(app)
  const srv = await serveFetch(app.fetch)
  t.after(() => srv.close())
  return { store, events, call: sameOriginCaller(srv.port) }
}

describe('hono adapter', () => {
  it("gives routes the request's session as c.get('session') and c.var.session", async (t) => {
    const { call } = await server(t, {}, (app) =>
      app.get('/read', (c) => {
        const s = c.get('session')
        return c.json({ same: s === c.var.session, data: { ...s, cookie: undefined } })
      }),
    )
    const cookie = cookiePair(await call('POST', '/write'), 'sid')!
    assert.deepEqual(JSON.parse((await call('GET', '/read', { cookie })).body), {
      same: true,
      data: { a: 1 },
    })
  })

  it("lets app.onError see a refusal's TetherError and answer it", async (t) => {
    const seen: unknown[] = []
    const { call } = await server(t, {}, (app) =>
      app.onError((err, c) => {
        seen.push(err)
        if (!isTetherError(err)) return c.text('unexpected', 500)
        return c.json({ mine: err.code }, err.status as 403)
      }),
    )
    // <form method=post action="https://victim/write"> on an attacker's page:
    const res = await call('POST', '/write', { 'sec-fetch-site': 'cross-site' })
    assert.equal(res.status, 403)
    assert.deepEqual(JSON.parse(res.body), { mine: 'TETHER_CSRF_REJECTED' })
    assert.equal(seen.length, 1)
    assert.ok(isTetherError(seen[0]) && seen[0].status === 403)
  })

  it("lets app.onError answer a failed commit, without the route's body headers, as no-store", async (t) => {
    let codes: string[] = []
    const { store, call } = await server(t, {}, (app) => {
      app.post('/fail', (c) => {
        ;(c.get('session') as unknown as Record<string, unknown>)['a'] = 1
        store.failing = true
        c.header('etag', '"v1"')
        return c.json({ ok: true })
      })
      app.onError((err, c) => {
        codes = [...codes, isTetherError(err) ? err.code : 'other']
        return c.json({ retry: true }, 503)
      })
    })
    const res = await call('POST', '/fail')
    assert.equal(res.status, 503)
    assert.deepEqual(JSON.parse(res.body), { retry: true })
    assert.deepEqual(codes, ['TETHER_STORE_UNAVAILABLE'])
    assert.equal(res.headers['etag'], undefined)
    assert.equal(res.headers['cache-control'], 'no-store')
  })

  it("answers a failed commit itself with none of the headers of the route's body", async (t) => {
    const { store, call } = await server(t, {}, (app) =>
      app.post('/download', (c) => {
        ;(c.get('session') as unknown as Record<string, unknown>)['a'] = 1
        store.failing = true
        c.header('content-disposition', 'attachment; filename="report.csv"')
        c.header('last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT')
        c.header('cache-control', 'public, max-age=600')
        return c.body('a,b\n1,2\n', 200, { 'content-type': 'text/csv' })
      }),
    )
    const res = await call('POST', '/download')
    assert.equal(res.status, 503)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(JSON.parse(res.body).error, 'TETHER_STORE_UNAVAILABLE')
    // Else the browser would save the error as report.csv, and a cache keep it for 10 minutes.
    assert.equal(res.headers['content-disposition'], undefined)
    assert.equal(res.headers['last-modified'], undefined)
    assert.equal(res.headers['cache-control'], 'no-store')
  })

  it("answers a session method's store failure in a route with 503, as the other adapters do", async (t) => {
    const { store, call } = await server(t, {}, (app) =>
      app.post('/login', async (c) => {
        store.failing = true
        await c.get('session').login('alice')
        return c.json({ ok: true })
      }),
    )
    const res = await call('POST', '/login', { accept: 'application/json' })
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers['retry-after']) > 0)
    assert.equal(JSON.parse(res.body).error, 'TETHER_STORE_UNAVAILABLE')
  })

  it('survives a failing save() the route forgot to await, as the other adapters do', async (t) => {
    const { store, call } = await server(t, {}, (app) =>
      app.post('/forgot', (c) => {
        store.failing = true
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- the bug under test
        c.get('session').save()
        return c.json({ ok: true })
      }),
    )
    assert.equal((await call('POST', '/forgot')).status, 200)
    // An unhandled rejection would fail this test (node:test reports it against the file).
    await new Promise((resolve) => setImmediate(resolve))
  })

  it('accepts a form post carrying _csrf and leaves the body for the route to parse', async (t) => {
    const { call } = await server(t, { csrf: { token: true } }, (app) => {
      app.get('/form', (c) => c.json({ token: csrfToken(c) }))
      app.post('/form', async (c) => c.json({ body: await c.req.parseBody() }))
    })
    const issued = await call('GET', '/form')
    const nonce = cookiePair(issued, 'csrf')!
    const { token } = JSON.parse(issued.body) as { token: string }
    const form = { cookie: nonce, 'content-type': 'application/x-www-form-urlencoded' }
    // <form method=post> of the site's own page, with <input type=hidden name=_csrf>:
    const ok = await call(
      'POST',
      '/form',
      form,
      new URLSearchParams({ _csrf: token, n: 'ann' }).toString(),
    )
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(ok.body), { body: { _csrf: token, n: 'ann' } })
    // The same form with another session's token, or none:
    for (const body of ['_csrf=forged&n=ann', 'n=ann']) {
      const refused = await call('POST', '/form', form, body)
      assert.equal(refused.status, 403, body)
      assert.equal(JSON.parse(refused.body).error, 'TETHER_CSRF_REJECTED')
    }
  })

  it("takes the client's address from @hono/node-server's socket, or from clientIp", async (t) => {
    const direct = await server(t)
    await direct.call('POST', '/write')
    assert.equal(direct.events.find((e) => e.type === 'session.created')?.ip, '127.0.0.1')
    const chosen = await server(t, { clientIp: (c) => c.req.header('x-real-ip') })
    await chosen.call('POST', '/write', { 'x-real-ip': '203.0.113.9' })
    assert.equal(chosen.events.find((e) => e.type === 'session.created')?.ip, '203.0.113.9')
  })
})
