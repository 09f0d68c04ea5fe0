import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session, { requireFreshAuth } from '../../src/adapters/express/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000

async function app(t: TestContext) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  // The store keeps real time; the manager's clock moves by hand (no sleeps).
  const mw = session({
    secret: newSecret(),
    store: new MemoryStore(),
    clock,
    absoluteTimeout: '8h',
    onEvent: (e) => events.push(e),
  })
  const a = express()
  a.use(mw)
  a.post('/login', async (req, res) => {
    await req.session.login('alice')
    res.json('in')
  })
  a.post('/reauth', async (req, res) => {
    await req.session.reauthenticated()
    res.json('fresh')
  })
  a.post('/password', requireFreshAuth('5m'), (_req, res) => {
    res.json('changed')
  })
  a.post('/logout', async (req, res) => {
    await req.session.logout({ clearSiteData: true })
    res.json('out')
  })
  a.get('/page', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600')
    res.json('page')
  })
  a.get('/touch', (req, res) => {
    ;(req.session as unknown as { n: number }).n = 1
    res.setHeader('Cache-Control', 'public, max-age=3600')
    res.json('set')
  })
  const srv = await listen(a)
  t.after(() => srv.close())
  return { ...srv, clock, events }
}

describe('step-up: requireFreshAuth and reauthenticated()', () => {
  it('lets a fresh login through and asks for re-authentication after maxAge, measured from login', async (t) => {
    const s = await app(t)
    const cookie = cookiePair(await send(s.port, { method: 'POST', path: '/login' }), 'sid')!
    s.clock.advance(5 * MIN)
    assert.equal(
      (await send(s.port, { method: 'POST', path: '/password', headers: { cookie } })).status,
      200,
      'exactly maxAge: allowed',
    )
    s.clock.advance(1)
    const stale = await send(s.port, { method: 'POST', path: '/password', headers: { cookie } })
    assert.equal(stale.status, 401)
    assert.deepEqual(JSON.parse(stale.body), { error: 'reauth_required' })
    const reauth = await send(s.port, { method: 'POST', path: '/reauth', headers: { cookie } })
    assert.equal(reauth.status, 200)
    // Re-authentication issues a new id (ASVS 7.2.4): the next request carries the new cookie.
    const fresh = cookiePair(reauth, 'sid')!
    assert.notEqual(fresh, cookie)
    assert.equal(
      (await send(s.port, { method: 'POST', path: '/password', headers: { cookie: fresh } }))
        .status,
      200,
    )
    assert.ok(s.events.some((e) => e.type === 'session.login' && e.reason === 'reauthenticated'))
  })

  it('refuses an anonymous session and one whose session is older than maxAge since login', async (t) => {
    const s = await app(t)
    assert.equal((await send(s.port, { method: 'POST', path: '/password' })).status, 401)
    const anon = cookiePair(await send(s.port, { path: '/touch' }), 'sid')!
    assert.equal(
      (await send(s.port, { method: 'POST', path: '/password', headers: { cookie: anon } })).status,
      401,
    )
    assert.equal(
      (await send(s.port, { method: 'POST', path: '/reauth', headers: { cookie: anon } })).status,
      500,
      'no reauth without login',
    )
  })

  it('lets onStale answer a stale request instead, with the default 401 one call away', async (t) => {
    const clock = manualClock(Date.now())
    const a = express()
    a.use(session({ secret: newSecret(), store: new MemoryStore(), clock }))
    a.post('/login', async (req, res) => {
      await req.session.login('alice')
      res.json('in')
    })
    const guard = requireFreshAuth('5m', {
      onStale: (req, res, reject) => {
        if (req.headers.accept === 'text/html') {
          res.statusCode = 303
          res.setHeader('Location', '/reauth')
          res.end()
        } else reject()
      },
    })
    a.post('/password', guard, (_req, res) => {
      res.json('changed')
    })
    const srv = await listen(a)
    t.after(() => srv.close())
    const cookie = cookiePair(await send(srv.port, { method: 'POST', path: '/login' }), 'sid')!
    const post = (accept: string) =>
      send(srv.port, { method: 'POST', path: '/password', headers: { cookie, accept } })
    assert.equal((await post('text/html')).status, 200, 'fresh: onStale is not called')
    clock.advance(5 * MIN + 1)
    const page = await post('text/html')
    assert.equal(page.status, 303)
    assert.equal(page.headers.location, '/reauth')
    const api = await post('application/json')
    assert.equal(api.status, 401)
    assert.deepEqual(JSON.parse(api.body), { error: 'reauth_required' })
    assert.throws(() => requireFreshAuth('5m', { onStale: 'nope' as never }), {
      code: 'TETHER_INVALID_OPTION',
    })
  })

  it('refuses requireFreshAuth without a valid duration at startup', () => {
    assert.throws(() => requireFreshAuth('soon'), { code: 'TETHER_INVALID_OPTION' })
    assert.throws(() => requireFreshAuth(undefined as unknown as string), {
      code: 'TETHER_INVALID_OPTION',
    })
  })
})

describe('cache hygiene', () => {
  it('marks every response that sets or clears the session cookie no-store, overriding the route', async (t) => {
    const s = await app(t)
    const set = await send(s.port, { path: '/touch' })
    assert.equal(set.setCookies.length, 1)
    assert.equal(set.headers['cache-control'], 'no-store')
    const plain = await send(s.port, { path: '/page' })
    assert.equal(
      plain.headers['cache-control'],
      'public, max-age=3600',
      'responses without a cookie are left alone',
    )
    const cookie = cookiePair(await send(s.port, { method: 'POST', path: '/login' }), 'sid')!
    const out = await send(s.port, { method: 'POST', path: '/logout', headers: { cookie } })
    assert.match(out.setCookies[0]!, /^sid=; .*Expires=Thu, 01 Jan 1970/)
    assert.equal(out.headers['cache-control'], 'no-store')
    assert.equal(out.headers['clear-site-data'], '"cache", "cookies", "storage"')
  })
})
