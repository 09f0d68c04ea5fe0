/**
 * The adapter behaviour suite in sealed mode (`store: 'sealed'`): the same apps as matrix.test.ts
 * (matrix/apps.ts, matrix/routes.ts) on every entry point, over real HTTP on 127.0.0.1, with the
 * session in the cookie and revocations in a counted MemoryStore. The cases of the stored-mode
 * suite that hold here are repeated with sealed cookies; where sealed mode behaves otherwise the
 * case asserts what does happen:
 * - two concurrent writes to different keys do not merge: each response seals its own copy, and
 *   the cookie the browser keeps last wins (stored mode keeps both keys);
 * - update(fn) is refused with TETHER_NOT_SUPPORTED (stored mode: 20 parallel increments all land);
 * - renewAfter is refused at startup (stored mode renews the id and honours a grace window);
 * - a commit fails because the session is too large for its cookie, not because a store is down.
 * What it lets pass: the same as matrix.test.ts (framework features outside the session).
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { TetherEvent } from '../../src/events/types.js'
import { manualClock } from '../helpers/clock.js'
import { send, type RawResponse } from '../helpers/http.js'
import { sendInRow } from '../helpers/keep-alive.js'
import { CountingMarks } from '../helpers/sealed.js'
import { capturedWarnings } from '../helpers/warnings.js'
import { newSecret } from '../helpers/secrets.js'
import { tamper } from '../helpers/tamper.js'
import { APPS, type App } from './matrix/apps.js'

const MIN = 60_000

async function setup(t: TestContext, build: (o: never) => Promise<App>, extra: object = {}) {
  const clock = manualClock(Date.now())
  const marks = new CountingMarks({ clock })
  t.after(() => marks.close())
  const events: TetherEvent[] = []
  const secret = newSecret()
  const options = { secret, store: 'sealed', revocationStore: marks, clock, ...extra }
  const app = await build({ ...options, onEvent: (e: TetherEvent) => events.push(e) } as never)
  t.after(() => app.close())
  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    send(app.port, { method, path, headers: { 'sec-fetch-site': 'same-origin', ...headers } })
  /** Another process: the same secret and revocation store. */
  const other = () =>
    createSessionManager({ ...(options as object), revocationCheckInterval: 0 } as never)
  return { app, marks, clock, events, call, other, secret }
}

function sid(res: RawResponse): string | undefined {
  return res.setCookies.find((c) => c.startsWith('sid='))?.split(';')[0]
}

function json(res: RawResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>
}

for (const [name, build] of Object.entries(APPS)) {
  describe(`adapter behaviour, sealed: ${name}`, () => {
    it('sends a sealed cookie only once something is written, marked no-store', async (t) => {
      const { marks, call } = await setup(t, build)
      for (const path of ['/noop', '/read']) assert.equal(sid(await call('GET', path)), undefined)
      const res = await call('POST', '/write?key=a&value=1')
      assert.equal(res.status, 200)
      assert.match(sid(res)!, /^sid=s1\.[\w-]+\.[\w-]+$/)
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.deepEqual(marks.writes, [], 'nothing stored')
    })

    it('reads back what an earlier request wrote, sending no new cookie inside touchAfter', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const res = await call('GET', '/read', { cookie })
      assert.deepEqual(json(res)['data'], { a: '1' })
      assert.equal(sid(res), undefined)
    })

    it('issues a new id at login, keeps the data, and the pre-login cookie no longer works', async (t) => {
      const { call } = await setup(t, build)
      const before = sid(await call('POST', '/write?key=a&value=1'))!
      const login = await call('POST', '/login?user=alice', { cookie: before })
      const after = sid(login)!
      assert.ok(after && after !== before)
      assert.equal(login.headers['cache-control'], 'no-store')
      assert.deepEqual(json(await call('GET', '/read', { cookie: after })), {
        data: { a: '1' },
        authAge: 0,
      })
      assert.deepEqual(json(await call('GET', '/read', { cookie: before }))['data'], {})
    })

    it('does not merge two writes at once: each response seals its own copy, the last cookie kept wins', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=x&value=0'))!
      const [a, b] = await Promise.all([
        call('POST', '/write?key=a&value=1', { cookie }),
        call('POST', '/write?key=b&value=2', { cookie }),
      ])
      assert.deepEqual(json(await call('GET', '/read', { cookie: sid(a)! }))['data'], {
        x: '0',
        a: '1',
      })
      assert.deepEqual(json(await call('GET', '/read', { cookie: sid(b)! }))['data'], {
        x: '0',
        b: '2',
      })
    })

    it('refuses update() in the route (500), and the session keeps its data', async (t) => {
      const { call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=x&value=0'))!
      // The route's own error (TETHER_NOT_SUPPORTED, test/core/sealed.test.ts): each framework's
      // default handler answers it, Hono's and Koa's without the code in the body.
      const res = await call('POST', '/count', { cookie })
      assert.equal(res.status, 500)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], { x: '0' })
    })

    it('re-seals an unchanged session lazily: a new cookie only after touchAfter', async (t) => {
      const { clock, call } = await setup(t, build, { idleTimeout: '30m' })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      clock.advance(1000)
      assert.equal(sid(await call('GET', '/read', { cookie })), undefined)
      clock.advance(2 * MIN)
      const touched = await call('GET', '/read', { cookie })
      const next = sid(touched)!
      assert.ok(next && next !== cookie)
      assert.deepEqual(json(await call('GET', '/read', { cookie: next }))['data'], { a: '1' })
    })

    it('ends a session idle for longer than idleTimeout', async (t) => {
      const { clock, call } = await setup(t, build, { idleTimeout: '10m' })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      clock.advance(9 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], { a: '1' })
      clock.advance(12 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
    })

    it('ends an active session at absoluteTimeout, whatever cookie it was re-sealed into', async (t) => {
      const { clock, events, call } = await setup(t, build, {
        idleTimeout: '30m',
        absoluteTimeout: '1h',
      })
      let cookie = sid(await call('POST', '/write?key=a&value=1'))!
      for (let i = 0; i < 2; i++) {
        clock.advance(25 * MIN)
        const res = await call('GET', '/read', { cookie })
        assert.deepEqual(json(res)['data'], { a: '1' })
        cookie = sid(res) ?? cookie
      }
      clock.advance(11 * MIN)
      assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
      assert.ok(events.some((e) => e.type === 'session.expired_absolute'))
    })

    for (const action of ['/logout', '/destroy']) {
      it(`${action} clears the cookie, and a copy of the old cookie no longer works`, async (t) => {
        const { call } = await setup(t, build, { cookie: { sameSite: 'strict' } })
        const set = await call('POST', '/write?key=a&value=1')
        const cookie = sid(set)!
        const cleared = await call('POST', action, { cookie })
        const line = cleared.setCookies.find((c) => c.startsWith('sid='))!
        assert.match(line, /^sid=;/)
        assert.match(line, /SameSite=Strict/)
        assert.match(line, /Expires=Thu, 01 Jan 1970/)
        assert.deepEqual(json(await call('GET', '/read', { cookie }))['data'], {})
      })
    }

    it("ends a user's sealed sessions when another process revokes them", async (t) => {
      const { call, other, clock } = await setup(t, build, { revocationCheckInterval: 0 })
      const alice = sid(await call('POST', '/login?user=alice'))!
      const bob = sid(await call('POST', '/login?user=bob'))!
      clock.advance(1)
      const elsewhere = other()
      t.after(() => elsewhere.close())
      await elsewhere.revokeUserSessions('alice')
      assert.equal(json(await call('GET', '/read', { cookie: alice }))['authAge'], null)
      assert.equal(json(await call('GET', '/read', { cookie: bob }))['authAge'], 1)
    })

    it('treats a tampered, duplicated or signed-mode cookie as anonymous without reading a mark', async (t) => {
      const { marks, events, call, secret } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const stored = createSessionManager({ secret })
      const session = stored.create({})
      await stored.commit(session, {}, { data: { a: '1' } })
      for (const bad of [
        tamper(cookie),
        `${cookie}; sid=${tamper(cookie).slice(4)}`,
        `sid=${stored.token(session)}`,
      ])
        assert.deepEqual(json(await call('GET', '/read', { cookie: bad }))['data'], {})
      assert.equal(marks.reads, 0)
      assert.ok(events.some((e) => e.type === 'token.forged'))
      assert.ok(events.some((e) => e.type === 'token.malformed'))
    })

    it('refuses a cross-site unsafe request with 403, and requires the CSRF token when csrf.token is on', async (t) => {
      const { call } = await setup(t, build, { csrf: { token: true } })
      // <form method=post action="https://victim/write"> on an attacker's page:
      const crossSite = await call('POST', '/write?key=a&value=1', {
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
      })
      assert.equal(crossSite.status, 403)
      const issued = await call('GET', '/csrf')
      const nonce = issued.setCookies.find((c) => c.startsWith('csrf='))!.split(';')[0]!
      const headers = { cookie: nonce, 'x-csrf-token': json(issued)['token'] as string }
      const ok = await call('POST', '/write?key=a&value=1', headers)
      assert.equal(ok.status, 200)
      const cookie = sid(ok)!
      assert.equal((await call('POST', '/write?key=b', { cookie })).status, 403)
      const token = json(await call('GET', '/csrf', { cookie }))['token'] as string
      const write = await call('POST', '/write?key=b', { cookie, 'x-csrf-token': token })
      assert.equal(write.status, 200)
    })

    it('answers 429 with Retry-After once an address sends too many invalid cookies', async (t) => {
      const { call } = await setup(t, build, { throttle: { limit: 2, window: '1m' } })
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      const statuses: number[] = []
      for (let i = 0; i < 3; i++)
        statuses.push((await call('GET', '/read', { cookie: tamper(cookie) })).status)
      assert.deepEqual(statuses, [200, 200, 429])
    })

    it('answers 503 with Retry-After when the revocation store fails at load', async (t) => {
      const { marks, call } = await setup(t, build)
      const cookie = sid(await call('POST', '/write?key=a&value=1'))!
      marks.failing = true
      const res = await call('GET', '/read', { cookie })
      assert.equal(res.status, 503)
      assert.ok(Number(res.headers['retry-after']) > 0)
      assert.match(res.body, /TETHER_STORE_UNAVAILABLE/)
    })

    it('answers a session too large for its cookie with 500 TETHER_COOKIE_TOO_LARGE and no cookie, on a keep-alive connection that stays usable', async (t) => {
      const { app, events } = await setup(t, build)
      const headers = { 'sec-fetch-site': 'same-origin' }
      const [big, next] = await sendInRow(app.port, [
        { method: 'POST', path: `/write?key=a&value=${'x'.repeat(3500)}`, headers },
        { method: 'GET', path: '/noop', headers },
      ])
      assert.equal(big!.status, 500)
      assert.match(big!.body, /"TETHER_COOKIE_TOO_LARGE"/)
      assert.equal(big!.headers['set-cookie'], undefined)
      assert.ok(events.some((e) => e.type === 'session.too_large'))
      assert.equal(next!.status, 200)
      assert.equal(next!.reusedSocket, true)
      assert.deepEqual(JSON.parse(next!.body), { ok: true })
    })

    it('gives a bearer client its sealed token in X-Session-Token, and the re-sealed one after touchAfter', async (t) => {
      const { clock, call } = await setup(t, build, { bearer: true })
      const login = await call('POST', '/login?user=alice', { 'x-session-transport': 'bearer' })
      assert.deepEqual(login.setCookies, [])
      const token = login.headers['x-session-token'] as string
      assert.match(token, /^s1\./)
      const bearer = { authorization: `Bearer ${token}` }
      const write = await call('POST', '/write?key=a&value=1', bearer)
      const written = write.headers['x-session-token'] as string
      assert.ok(written && written !== token, 'changed data: a new token')
      const read = await call('GET', '/read', { authorization: `Bearer ${written}` })
      assert.deepEqual(json(read)['data'], { a: '1' })
      assert.equal(read.headers['x-session-token'], undefined)
      clock.advance(2 * MIN)
      const touched = await call('GET', '/read', { authorization: `Bearer ${written}` })
      assert.match(touched.headers['x-session-token'] as string, /^s1\./)
      const out = await call('POST', '/logout', { authorization: `Bearer ${written}` })
      assert.equal(out.headers['x-session-token'], '')
      assert.deepEqual(
        json(await call('GET', '/read', { authorization: `Bearer ${written}` }))['data'],
        {},
      )
    })

    it('re-issues a cookie sealed with the newest key once a new secret is first in the list', async (t) => {
      const oldSecret = newSecret()
      const before = await setup(t, build, { secret: oldSecret })
      const cookie = sid(await before.call('POST', '/write?key=a&value=1'))!
      const after = await setup(t, build, { secret: [newSecret(), oldSecret] })
      const res = await after.call('GET', '/read', { cookie })
      assert.deepEqual(json(res)['data'], { a: '1' })
      const next = sid(res)!
      assert.ok(next && next.split('.')[1] !== cookie.split('.')[1], 'sealed under another kid')
    })

    it('never carries a token or a session id in an event', async (t) => {
      const { events, call } = await setup(t, build)
      const first = sid(await call('POST', '/write?key=a&value=1'))!
      const login = sid(await call('POST', '/login', { cookie: first }))!
      await call('GET', '/read', { cookie: tamper(login) })
      await call('GET', '/read', { cookie: first })
      await call('POST', '/logout', { cookie: login })
      const text = JSON.stringify(events)
      assert.ok(events.length >= 5)
      for (const cookie of [first, login]) assert.ok(!text.includes(cookie.slice('sid='.length)))
    })

    it('answers hostile input with an anonymous session or a 4xx, never a 5xx or a mark read', async (t) => {
      const { marks, app, call } = await setup(t, build)
      const hostile = [
        'sid=s1',
        'sid=s1..',
        'sid=s1.k.',
        `sid=s1.k.${'A'.repeat(8000)}`,
        `sid=s1.${'k'.repeat(40)}.${'A'.repeat(60)}`,
        'sid=s1.k.%ZZ%ZZ',
        'sid=s1.k.\u00ff\u00fe\u0080',
        '=; ; ;;sid',
      ]
      for (const cookie of hostile) {
        const res = await call('GET', '/read', { cookie })
        assert.ok(res.status < 500, `${cookie.slice(0, 20)}: ${res.status}`)
      }
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(app.port, '127.0.0.1', () =>
          socket.end('POST /write HTTP/1.0\r\nCookie: sid=s1.a.bcd\r\nContent-Length: 0\r\n\r\n'),
        )
        let text = ''
        socket.setEncoding('latin1')
        socket.on('data', (c: string) => (text += c))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
      assert.match(raw, /^HTTP\/1\.[01] [234]\d\d/)
      assert.equal(marks.reads, 0)
    })
  })
}

describe('adapter behaviour, sealed: options', () => {
  it('warns at startup in production when revocations would stay in one process', async (t) => {
    const warnings = capturedWarnings(t, 'TETHER_MEMORY_STORE')
    const { session } = await import('../../src/adapters/express/index.js')
    const previous = process.env['NODE_ENV']
    process.env['NODE_ENV'] = 'production'
    t.after(() => {
      if (previous === undefined) delete process.env['NODE_ENV']
      else process.env['NODE_ENV'] = previous
    })
    const alone = session({ secret: newSecret(), store: 'sealed' })
    t.after(() => alone.manager.close())
    const revocationStore = new CountingMarks()
    t.after(() => revocationStore.close())
    const shared = session({ secret: newSecret(), store: 'sealed', revocationStore })
    t.after(() => shared.manager.close())
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!, /^tether-session: store: 'sealed' without a "revocationStore"/)
  })

  it('refuses renewAfter when the middleware is built', async () => {
    const { session } = await import('../../src/adapters/express/index.js')
    assert.throws(() => session({ secret: newSecret(), store: 'sealed', renewAfter: '15m' }), {
      code: 'TETHER_INVALID_OPTION',
      option: 'renewAfter',
    })
  })
})
