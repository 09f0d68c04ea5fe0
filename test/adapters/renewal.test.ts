// Session renewal through the Express adapter, over real HTTP: the id rotates while the user stays
// logged in, parallel requests across a renewal keep working, and an old cookie replayed after the
// grace window ends the session for everyone holding it. Run on MemoryStore and SqliteStore (the
// other stores run the same renewal cases in test/stores/conformance-manager.ts).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session, { csrfToken } from '../../src/adapters/express/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { SqliteStore } from '../../src/stores/sqlite.js'
import type { SessionStore } from '../../src/stores/types.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { cookiePair, listen, send, type RawResponse } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000

type OpenStore = (t: TestContext, clock: ManualClock) => SessionStore

const STORES: Array<[string, OpenStore]> = [
  ['MemoryStore', (_t, clock) => new MemoryStore({ clock })],
  [
    'SqliteStore',
    (t, clock) => {
      const dir = mkdtempSync(join(tmpdir(), 'tether-renewal-'))
      const store = new SqliteStore({ path: join(dir, 'sessions.db'), clock })
      t.after(async () => {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      })
      return store
    },
  ],
]

async function app(t: TestContext, open: OpenStore) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const mw = session({
    secret: newSecret(),
    store: open(t, clock),
    clock,
    renewAfter: '15m',
    renewGrace: '1m',
    onEvent: (e) => events.push(e),
  })
  const a = express()
  a.use(mw)
  a.post('/login', async (req, res) => {
    await req.session.login('alice')
    res.json(req.session.ref)
  })
  a.get('/me', (req, res) => {
    res.status(req.session.authAge === null ? 401 : 200).json(req.session.ref)
  })
  a.post('/mark/:i', (req, res) => {
    ;(req.session as unknown as Record<string, number>)[`k${req.params.i}`] = Number(req.params.i)
    res.json(req.session.ref)
  })
  a.get('/data', (req, res) => {
    const { cookie: _cookie, ...data } = req.session as unknown as Record<string, unknown>
    res.json(data)
  })
  const srv = await listen(a)
  t.after(() => srv.close())
  const get = (path: string, cookie: string, method = 'GET') =>
    send(srv.port, { method, path, headers: { cookie } })
  return { ...srv, clock, events, get, manager: mw.manager }
}

/** The cookie a response set, or the one the client already had. */
function next(res: RawResponse, current: string): string {
  return cookiePair(res, 'sid') ?? current
}

for (const [name, open] of STORES) {
  describe(`renewal over HTTP (${name})`, () => {
    it('rotates the cookie after renewAfter while the user stays logged in', async (t) => {
      const s = await app(t, open)
      const login = await send(s.port, { method: 'POST', path: '/login' })
      const first = cookiePair(login, 'sid')!
      s.clock.advance(16 * MIN)
      const res = await s.get('/me', first)
      assert.equal(res.status, 200)
      const second = cookiePair(res, 'sid')
      assert.ok(second && second !== first, 'a new cookie is sent')
      assert.match(res.setCookies[0]!, /HttpOnly/)
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.equal((await s.get('/me', second)).status, 200)
      assert.equal((await s.manager.listUserSessions('alice')).length, 1)
    })

    it('keeps 20 parallel requests across a renewal logged in, with every write kept', async (t) => {
      const s = await app(t, open)
      const first = cookiePair(await send(s.port, { method: 'POST', path: '/login' }), 'sid')!
      s.clock.advance(16 * MIN)
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.get(`/mark/${i}`, first, 'POST')),
      )
      for (const res of responses) assert.equal(res.status, 200, 'no request was logged out')
      const cookies = new Set(responses.map((res) => cookiePair(res, 'sid')))
      assert.equal(cookies.size, 1, 'every response carries the same new cookie')
      const renewed = [...cookies][0]!
      assert.notEqual(renewed, first)
      const data = JSON.parse((await s.get('/data', renewed)).body) as Record<string, number>
      for (let i = 0; i < 20; i++) assert.equal(data[`k${i}`], i)
      // Within the grace window the old cookie still works and is answered with the new one.
      const late = await s.get('/me', first)
      assert.equal(late.status, 200)
      assert.equal(cookiePair(late, 'sid'), renewed)
    })

    it('ends the session for both holders when an old cookie is replayed after the grace window', async (t) => {
      const s = await app(t, open)
      const stolen = cookiePair(await send(s.port, { method: 'POST', path: '/login' }), 'sid')!
      let mine = stolen
      s.clock.advance(16 * MIN)
      mine = next(await s.get('/me', mine), mine)
      assert.notEqual(mine, stolen)
      assert.equal((await s.get('/me', mine)).status, 200)
      s.clock.advance(2 * MIN)
      const replay = await s.get('/me', stolen)
      assert.equal(replay.status, 401, 'the replayed cookie gets no session')
      assert.equal(
        (await s.get('/me', mine)).status,
        401,
        'nor does the owner: the session is gone',
      )
      const revoked = s.events.filter((e) => e.type === 'session.revoked')
      assert.deepEqual(
        revoked.map((e) => e.reason),
        ['reuse'],
      )
      const serialised = JSON.stringify(s.events)
      for (const cookie of [stolen, mine])
        assert.ok(!serialised.includes(cookie.split('=')[1]!), 'no cookie value in events')
    })
  })
}

describe('renewal and CSRF tokens', () => {
  it('keeps a form token valid across a renewal, and not across a new login', async (t) => {
    const clock = manualClock(Date.now())
    const mw = session({
      secret: newSecret(),
      store: new MemoryStore({ clock }),
      clock,
      csrf: { token: true, preSession: false },
    })
    const a = express()
    a.use(mw)
    a.post('/login', async (req, res) => {
      await req.session.login('alice')
      res.json(csrfToken(req))
    })
    a.get('/form', (req, res) => {
      res.json(csrfToken(req))
    })
    a.post('/submit', (_req, res) => {
      res.json('ok')
    })
    const srv = await listen(a)
    t.after(() => srv.close())
    const login = await send(srv.port, { method: 'POST', path: '/login' })
    const first = cookiePair(login, 'sid')!
    const token = JSON.parse(login.body) as string
    const post = (cookie: string, csrf: string) =>
      send(srv.port, {
        method: 'POST',
        path: '/submit',
        headers: { cookie, 'x-csrf-token': csrf },
      })
    // A form rendered now is posted after the session was renewed (by this very request, or by
    // another tab first): both must pass.
    clock.advance(16 * MIN)
    const renewing = await post(first, token)
    assert.equal(renewing.status, 200)
    const second = cookiePair(renewing, 'sid')
    assert.ok(second && second !== first, 'the session was renewed')
    assert.equal((await post(second, token)).status, 200)
    assert.equal(
      JSON.parse((await send(srv.port, { path: '/form', headers: { cookie: second } })).body),
      token,
    )
    // A new login starts a new session: the old token is refused.
    const relogin = await send(srv.port, {
      method: 'POST',
      path: '/login',
      headers: { cookie: second, 'x-csrf-token': token },
    })
    assert.equal(relogin.status, 200)
    const third = cookiePair(relogin, 'sid')!
    assert.equal((await post(third, token)).status, 403)
    assert.equal((await post(third, JSON.parse(relogin.body) as string)).status, 200)
  })
})
