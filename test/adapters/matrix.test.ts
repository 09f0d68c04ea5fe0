/**
 * One behaviour suite, run unchanged against every entry point (Express, Fastify, Hono, Fetch,
 * Koa, node:http) over real HTTP on 127.0.0.1: the apps in matrix/apps.ts serve the same routes
 * (matrix/routes.ts). What it lets pass: framework features outside the session (body parsers,
 * routers), and each adapter's own API beyond what all share (tested in each adapter's file).
 */
import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { send, type RawResponse } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { tamper } from '../helpers/tamper.js'
import { APPS, type App } from './matrix/apps.js'

const MIN = 60_000

async function setup(t: TestContext, build: (o: never) => Promise<App>, extra: object = {}) {
  const clock = manualClock(Date.now())
  const store = spyStore(new MemoryStore({ clock }))
  t.after(() => store.close?.())
  const events: TetherEvent[] = []
  const app = await build({
    secret: newSecret(),
    store,
    clock,
    onEvent: (e: TetherEvent) => events.push(e),
    ...extra,
  } as never)
  t.after(() => app.close())
  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    send(app.port, { method, path, headers: { 'sec-fetch-site': 'same-origin', ...headers } })
  return { app, store, clock, events, call }
}

function sid(res: RawResponse): string | undefined {
  return res.setCookies.find((c) => c.startsWith('sid='))?.split(';')[0]
}

function json(res: RawResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>
}

for (const [name, build] of Object.entries(APPS)) {
  describe(`adapter behaviour: ${name}`, () => {
    it('keeps a change made before update(fn) in the same request', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      assert.equal((await call('POST', '/set-then-count', { cookie })).status, 200)
      const { data } = json(await call('GET', '/read', { cookie }))
      assert.deepEqual(data, { a: '1', theme: 'dark', n: 1 })
    })

    it('stores no edit the route made in place and undid, beside a change it kept', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/cart'))!
      assert.equal((await call('POST', '/undo', { cookie })).status, 200)
      const { data } = json(await call('GET', '/read', { cookie }))
      assert.deepEqual(data, { cart: { items: ['book'] }, page: '/cart' })
    })

    it('stores a new session only when something is written, and marks the cookie no-store', async (t) => {
      const { store, call } = await setup(t, build)
      for (const path of ['/noop', '/read']) {
        const res = await call('GET', path)
        assert.equal(res.status, 200)
        assert.equal(sid(res), undefined, path)
      }
      assert.equal(store.total(), 0)
      const res = await call('POST', '/write?key=a&value=1')
      assert.equal(res.status, 200)
      assert.ok(sid(res))
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.equal(store.calls.create, 1)
    })

    it('reads back what an earlier request wrote', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const res = await call('GET', '/read', { cookie })
      assert.deepEqual(json(res)['data'], { a: '1' })
      assert.equal(sid(res), undefined, 'an unchanged session sends no cookie')
    })

    it('issues a new id at login, keeps the data, and the old cookie no longer works', async (t) => {
      const { call } = await setup(t, build)
      const before = sid(await call('POST', '/write?key=a&value=1'))!
      const login = await call('POST', '/login?user=alice', { cookie: before })
      const after = sid(login)!
      assert.ok(after)
      assert.notEqual(after, before)
      assert.equal(login.headers['cache-control'], 'no-store')
      assert.deepEqual(json(await call('GET', '/read', { cookie: after })), {
        data: { a: '1' },
        authAge: 0,
      })
      assert.deepEqual(json(await call('GET', '/read', { cookie: before }))['data'], {})
    })

    it('keeps both keys when two requests write different keys at once', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=x&value=0'))!
      await Promise.all([
        call('POST', '/write?key=a&value=1', { cookie }),
        call('POST', '/write?key=b&value=2', { cookie }),
      ])
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {
        x: '0',
        a: '1',
        b: '2',
      })
    })

    it('loses none of 20 parallel update() increments', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=x&value=0'))!
      await Promise.all(Array.from({ length: 20 }, () => call('POST', '/count', { cookie })))
      assert.equal((json(await call('GET', '/read', { cookie }))['data'] as { n: number }).n, 20)
    })

    it('touches an unchanged session lazily, not on every request', async (t) => {
      const { store, clock, call } = await setup(t, build, { idleTimeout: '30m' })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      clock.advance(1000)
      await call('GET', '/read', { cookie })
      assert.equal(store.calls.touch + store.calls.update, 0)
      clock.advance(2 * MIN)
      await call('GET', '/read', { cookie })
      assert.equal(store.calls.touch, 1)
    })

    it('ends a session idle for longer than idleTimeout', async (t) => {
      const { clock, call } = await setup(t, build, { idleTimeout: '10m' })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      clock.advance(9 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], { a: '1' })
      clock.advance(12 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
    })

    it('ends an active session at absoluteTimeout', async (t) => {
      const { clock, events, call } = await setup(t, build, {
        idleTimeout: '30m',
        absoluteTimeout: '1h',
        renewAfter: false,
      })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      for (let i = 0; i < 2; i++) {
        clock.advance(25 * MIN)
        assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], { a: '1' })
      }
      clock.advance(11 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
      assert.ok(events.some((e) => e.type === 'session.expired_absolute'))
    })

    it('renews the id after renewAfter and honours the old one inside the grace window', async (t) => {
      const { clock, call } = await setup(t, build, { renewAfter: '15m', renewGrace: '1m' })
      const old = sid(await call('POST', '/write?key=a&value=1'))!
      clock.advance(16 * MIN)
      const renewed = await call('GET', '/read', { cookie: old })
      const fresh = sid(renewed)!
      assert.ok(fresh && fresh !== old)
      assert.deepEqual(json(renewed)['data'], { a: '1' })
      clock.advance(10_000)
      const inGrace = await call('GET', '/read', { cookie: old })
      assert.deepEqual(json(inGrace)['data'], { a: '1' })
      assert.equal(sid(inGrace), fresh, 'the old id is answered with the new cookie')
      assert.deepEqual(json(await call('GET', '/read', { cookie: fresh }))['data'], { a: '1' })
    })

    for (const action of ['/logout', '/destroy']) {
      it(`${action} clears the cookie with the attributes it was set with`, async (t) => {
        const { call } = await setup(t, build, { cookie: { sameSite: 'strict' } })
        const set = await call('POST', '/write?key=a&value=1')
        const cookie = sid(set)!
        const cleared = await call('POST', action, { cookie })
        const line = cleared.setCookies.find((c) => c.startsWith('sid='))!
        assert.match(line, /^sid=;/)
        assert.match(line, /Expires=Thu, 01 Jan 1970/)
        const attrs = (l: string) =>
          l
            .split('; ')
            .slice(1)
            .filter((a) => !a.startsWith('Expires'))
            .sort()
        assert.deepEqual(attrs(line), attrs(set.setCookies.find((c) => c.startsWith('sid='))!))
        assert.equal(cleared.headers['cache-control'], 'no-store')
        assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
      })
    }

    it('treats a tampered or duplicated cookie as anonymous without any store call', async (t) => {
      const { store, events, call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const before = store.total()
      const forged = await call('GET', '/read', { cookie: tamper(cookie) })
      assert.deepEqual(json(forged)['data'], {})
      const dup = await call('GET', '/read', { cookie: `${cookie}; sid=${tamper(cookie)}` })
      assert.deepEqual(json(dup)['data'], {})
      assert.equal(store.total(), before)
      assert.ok(events.some((e) => e.type === 'token.forged'))
      assert.ok(events.some((e) => e.type === 'token.malformed'))
    })

    it('refuses a cross-site unsafe request with 403 before any store I/O', async (t) => {
      const { store, events, call } = await setup(t, build)
      // <form method=post action="https://victim/write"> on an attacker's page:
      const res = await call('POST', '/write?key=a&value=1', {
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
      })
      assert.equal(res.status, 403)
      assert.match(res.body, /TETHER_CSRF_REJECTED/)
      assert.equal(store.total(), 0)
      assert.ok(events.some((e) => e.type === 'csrf.rejected'))
    })

    it('requires the CSRF token on unsafe requests when csrf.token is on', async (t) => {
      const { call } = await setup(t, build, { csrf: { token: true } })
      // A same-site attacker (or an old browser) posting without the token:
      assert.equal((await call('POST', '/write?key=a&value=1')).status, 403)
      const issued = await call('GET', '/csrf')
      const nonce = issued.setCookies.find((c) => c.startsWith('csrf='))!.split(';')[0]!
      const token = json(issued)['token'] as string
      const ok = await call('POST', '/write?key=a&value=1', {
        cookie: nonce,
        'x-csrf-token': token,
      })
      assert.equal(ok.status, 200)
      const cookie = sid(ok)!
      const sessionToken = json(await call('GET', '/csrf', { cookie }))['token'] as string
      assert.equal((await call('POST', '/write?key=b', { cookie })).status, 403)
      const write = await call('POST', '/write?key=b', { cookie, 'x-csrf-token': sessionToken })
      assert.equal(write.status, 200)
    })

    it('answers 429 with Retry-After once an address sends too many invalid cookies', async (t) => {
      const { store, call } = await setup(t, build, { throttle: { limit: 2, window: '1m' } })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const statuses: number[] = []
      let last: RawResponse | undefined
      for (let i = 0; i < 4; i++) {
        last = await call('GET', '/read', { cookie: tamper(cookie) })
        statuses.push(last.status)
      }
      assert.deepEqual(statuses.slice(0, 2), [200, 200])
      assert.equal(last!.status, 429)
      assert.ok(Number(last!.headers['retry-after']) > 0)
      assert.match(sid(last!) ?? '', /^sid=$/, 'the invalid cookie is cleared')
      assert.equal(store.calls.get, 0)
    })

    it('answers 503 with Retry-After when the store fails at load', async (t) => {
      const { store, call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      store.failing = true
      const res = await call('GET', '/read', { cookie })
      assert.equal(res.status, 503)
      assert.ok(Number(res.headers['retry-after']) > 0)
      assert.match(res.body, /TETHER_STORE_UNAVAILABLE/)
    })

    it('answers a failed commit with 503 on a keep-alive connection that stays usable', async (t) => {
      const { app, store } = await setup(t, build)
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      t.after(() => agent.destroy())
      const sockets = new Set<unknown>()
      const get = (method: string, path: string) =>
        new Promise<RawResponse>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: app.port,
              method,
              path,
              agent,
              headers: { 'sec-fetch-site': 'same-origin' },
            },
            (res) => {
              sockets.add(res.socket)
              let body = ''
              res.setEncoding('utf8')
              res.on('data', (c: string) => (body += c))
              res.on('end', () =>
                resolve({ status: res.statusCode!, headers: res.headers, body, setCookies: [] }),
              )
            },
          )
          req.on('error', reject)
          req.end()
        })
      store.failing = true
      const failed = await get('POST', '/big')
      assert.equal(failed.status, 503)
      // Every adapter's body names the code (Fastify's error handler as `code`, the others as `error`).
      assert.match(failed.body, /"TETHER_STORE_UNAVAILABLE"/)
      JSON.parse(failed.body)
      store.failing = false
      const next = await get('GET', '/noop')
      assert.equal(next.status, 200)
      assert.deepEqual(JSON.parse(next.body), { ok: true })
      assert.equal(sockets.size, 1, 'both requests used one connection')
    })

    it('gives a bearer client its token in X-Session-Token, never a cookie, and takes it back as Authorization: Bearer', async (t) => {
      const { call } = await setup(t, build, { bearer: true })
      const asks = { 'x-session-transport': 'bearer' }
      const login = await call('POST', '/login?user=alice', asks)
      assert.equal(login.status, 200)
      assert.deepEqual(login.setCookies, [])
      const token = login.headers['x-session-token'] as string
      assert.match(token, /^t1\./)
      assert.equal(login.headers['cache-control'], 'no-store')
      const bearer = { authorization: `Bearer ${token}` }
      assert.equal((await call('POST', '/write?key=a&value=1', bearer)).status, 200)
      const read = await call('GET', '/read', bearer)
      assert.deepEqual(json(read)['data'], { a: '1' })
      assert.equal(
        read.headers['x-session-token'],
        undefined,
        'an unchanged session sends no token',
      )
      // The same token as a cookie is not a header client's: the cookie name is another matter.
      assert.deepEqual(json(await call('GET', '/read', { cookie: `sid=${token}` }))['data'], {
        a: '1',
      })
      const out = await call('POST', '/logout', bearer)
      assert.equal(
        out.headers['x-session-token'],
        '',
        'an empty token tells the client to drop its own',
      )
      assert.deepEqual(json(await call('GET', '/read', bearer))['data'], {})
    })

    it('exempts bearer requests from the origin and CSRF checks and keeps both for cookies', async (t) => {
      const { call } = await setup(t, build, { bearer: true, csrf: { token: true } })
      const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
      // A native client's login: no token, no cookie, asks for a header token.
      const login = await call('POST', '/login', { ...crossSite, 'x-session-transport': 'bearer' })
      assert.equal(login.status, 200)
      const token = login.headers['x-session-token'] as string
      const write = await call('POST', '/write?key=a', {
        ...crossSite,
        authorization: `Bearer ${token}`,
      })
      assert.equal(write.status, 200)
      // <form method=post action="https://victim/write"> still fails for a cookie holder, and a
      // same-site post without the CSRF token too:
      assert.equal(
        (await call('POST', '/write?key=b', { ...crossSite, cookie: `sid=${token}` })).status,
        403,
      )
      assert.equal((await call('POST', '/write?key=b', { cookie: `sid=${token}` })).status, 403)
    })

    it('ignores Authorization unless bearer is on, and treats a malformed Bearer value as a bad token', async (t) => {
      const { events, call } = await setup(t, build, { bearer: true, throttle: { limit: 1 } })
      const token = (await call('POST', '/login', { 'x-session-transport': 'bearer' })).headers[
        'x-session-token'
      ] as string
      await call('GET', '/read', { authorization: 'Bearer not a token' })
      assert.ok(events.some((e) => e.type === 'token.malformed'))
      const blocked = await call('GET', '/read', { authorization: `Bearer ${tamper(token)}` })
      assert.equal(blocked.status, 429)
      assert.equal(blocked.headers['x-session-token'], '')
      // Another scheme is the application's own business:
      const basic = await call('GET', '/read', { authorization: 'Basic dXNlcjpwYXNz' })
      assert.equal(basic.status, 200)
      const off = await setup(t, build)
      const ignored = await off.call('GET', '/read', { authorization: `Bearer ${token}` })
      assert.deepEqual(json(ignored)['data'], {})
      assert.equal(off.events.length, 0, 'not even looked at')
    })

    it('renews a bearer token in X-Session-Token and honours the old one in the grace window', async (t) => {
      const { clock, call } = await setup(t, build, { bearer: true, renewAfter: '15m' })
      const old = (await call('POST', '/login', { 'x-session-transport': 'bearer' })).headers[
        'x-session-token'
      ] as string
      clock.advance(16 * MIN)
      const renewed = await call('GET', '/read', { authorization: `Bearer ${old}` })
      const fresh = renewed.headers['x-session-token'] as string
      assert.ok(fresh && fresh !== old)
      assert.deepEqual(renewed.setCookies, [])
      const inGrace = await call('GET', '/read', { authorization: `Bearer ${old}` })
      assert.equal(inGrace.headers['x-session-token'], fresh)
      assert.equal(
        json(await call('GET', '/read', { authorization: `Bearer ${fresh}` }))['authAge'] !== null,
        true,
      )
    })

    it('never carries a token or a session id in an event', async (t) => {
      const { clock, events, call } = await setup(t, build, { renewAfter: '15m' })
      const first = sid(await call('POST', '/write?key=a&value=1'))!
      const login = sid(await call('POST', '/login', { cookie: first }))!
      await call('GET', '/read', { cookie: tamper(login) })
      clock.advance(16 * MIN)
      const renewed = sid(await call('GET', '/read', { cookie: login }))!
      await call('POST', '/logout', { cookie: renewed })
      const text = JSON.stringify(events)
      assert.ok(events.length >= 5)
      for (const cookie of [first, login, renewed]) {
        const token = decodeURIComponent(cookie.slice('sid='.length))
        assert.ok(!text.includes(token))
        const id = token.split('.')[3]!
        assert.ok(id.length > 20 && !text.includes(id))
      }
    })

    it('answers hostile input with an anonymous session or a 4xx, never a 5xx or a store lookup', async (t) => {
      const { store, app, call } = await setup(t, build)
      const hostile = [
        'sid=',
        'sid=t1',
        'sid=t1....',
        `sid=${'A'.repeat(8000)}`,
        'sid=t1.k.1.%ZZ.mac',
        'sid="unterminated',
        'sid=\u00ff\u00fe\u0080',
        '=; ; ;;sid',
      ]
      for (const cookie of hostile) {
        const res = await call('GET', '/read', { cookie })
        assert.ok(res.status < 500, `${cookie.slice(0, 20)}: ${res.status}`)
      }
      // A body-less POST:
      assert.ok(
        (await call('POST', '/write?key=a&value=1', { 'content-length': '0' })).status < 500,
      )
      // HTTP/1.0 without a Host header:
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(app.port, '127.0.0.1', () =>
          socket.end('POST /write HTTP/1.0\r\nCookie: sid=t1.a.b.c.d\r\nContent-Length: 0\r\n\r\n'),
        )
        let text = ''
        socket.setEncoding('latin1')
        socket.on('data', (c: string) => (text += c))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
      assert.match(raw, /^HTTP\/1\.[01] [234]\d\d/)
      assert.equal(store.calls.get, 0)
    })
  })
}
