/**
 * Session data through `req.session` (DESIGN.md "Session data"): reserved names are refused at
 * commit and in update(fn), naming them, and stored data never changes what `req.session` is.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express, { type Express, type Request } from 'express'
import session, { Session, tetherErrorHandler } from '../../src/adapters/express/index.js'
import { sessionRef } from '../../src/codec/ids.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { makePatch } from '../stores/fixtures.js'

type Data = Record<string, unknown>

async function serve(t: TestContext, routes: (app: Express) => void) {
  const store = spyStore(new MemoryStore())
  const app = express()
  app.use(session({ secret: newSecret(), store }))
  app.get('/start', function start(req, res) {
    ;(req.session as unknown as Data)['n'] = 1
    res.json({ ok: true })
  })
  routes(app)
  app.use(tetherErrorHandler())
  const srv = await listen(app)
  t.after(() => srv.close())
  const started = await send(srv.port, { path: '/start' })
  const cookie = cookiePair(started, 'sid')!
  // The store key of the session the cookie names (t1.<kid>.<issuedAt>.<id>.<mac>).
  const ref = sessionRef(cookie.split('=')[1]!.split('.')[3]!)
  return { port: srv.port, store, cookie, ref }
}

/** Every name a key of req.session would be shadowed by: its API, its own fields, Object's. */
function sessionNames(): string[] {
  const names = new Set<string>(['cookie'])
  const probe = new Session({} as Request)
  for (let o: object | null = probe; o !== null; o = Object.getPrototypeOf(o) as object | null)
    for (const name of Object.getOwnPropertyNames(o)) names.add(name)
  return [...names]
}

describe('req.session data', () => {
  it("refuses every name of req.session's API and of Object.prototype as a key, writing nothing", async (t) => {
    const s = await serve(t, function routes(app) {
      app.get('/set', function setReserved(req, res) {
        const name = req.query['name'] as string
        // defineProperty: plain assignment to a getter such as `id` throws before Tether sees it.
        Object.defineProperty(req.session, name, { value: 'v', enumerable: true, writable: true })
        res.json({ ok: true })
      })
      app.get('/update', async function updateReserved(req, res) {
        const name = req.query['name'] as string
        await req.session.update(function setReserved(data) {
          Object.defineProperty(data, name, { value: 'v', enumerable: true, writable: true })
        })
        res.json({ ok: true })
      })
    })
    const names = sessionNames()
    for (const name of ['id', 'save', 'regenerate', 'login', 'update', 'constructor', '__proto__'])
      assert.ok(names.includes(name), name)
    const before = s.store.calls.update
    for (const name of names) {
      // req.session.cookie is the Cookie itself and req.session.req is read-only: update(fn) only.
      const routes = name === 'cookie' || name === 'req' ? ['/update'] : ['/set', '/update']
      for (const route of routes) {
        const path = `${route}?name=${encodeURIComponent(name)}`
        const res = await send(s.port, { path, headers: { cookie: s.cookie } })
        assert.equal(res.status, 500, `${path}: ${res.body}`)
        const body = JSON.parse(res.body) as { error: string; message: string }
        assert.equal(body.error, 'TETHER_INVALID_SESSION_DATA', name)
        assert.ok(body.message.includes(JSON.stringify(name)), body.message)
      }
    }
    assert.equal(s.store.calls.update, before, 'nothing was written')
  })

  it('refuses id set inside update(fn) and keeps the stored session as it was', async (t) => {
    const s = await serve(t, function routes(app) {
      app.post('/id', async function setId(req, res) {
        await req.session.update(function assignId(data) {
          data['id'] = 'mine'
        })
        res.json({ ok: true })
      })
      app.get('/n', function readN(req, res) {
        res.json({ n: (req.session as unknown as Data)['n'] ?? null })
      })
    })
    const refused = await send(s.port, {
      method: 'POST',
      path: '/id',
      headers: { cookie: s.cookie },
    })
    assert.equal(refused.status, 500)
    assert.equal(
      (JSON.parse(refused.body) as { error: string }).error,
      'TETHER_INVALID_SESSION_DATA',
    )
    const after = await send(s.port, { path: '/n', headers: { cookie: s.cookie } })
    assert.deepEqual(JSON.parse(after.body), { n: 1 })
    assert.equal(Object.hasOwn((await s.store.get(s.ref))!.data, 'id'), false)
  })

  it('loads stored __proto__, id and save keys without changing req.session, also after update(fn)', async (t) => {
    const s = await serve(t, function routes(app) {
      app.post('/bump', async function bump(req, res) {
        const intact = () =>
          Object.getPrototypeOf(req.session) === Session.prototype &&
          typeof req.session.save === 'function' &&
          req.session.id === req.sessionID
        const before = intact()
        await req.session.update(function increment(data) {
          data['n'] = (data['n'] as number) + 1
        })
        res.json({ before, after: intact(), n: (req.session as unknown as Data)['n'] })
      })
    })
    // Written straight to the store, as data stored before these names were refused could be.
    const legacy = JSON.parse('{"__proto__":{"polluted":1},"id":"old","save":1}') as Data
    const record = (await s.store.get(s.ref))!
    await s.store.update(s.ref, makePatch(record, { set: legacy }))
    const res = await send(s.port, { method: 'POST', path: '/bump', headers: { cookie: s.cookie } })
    assert.equal(res.status, 200, res.body)
    assert.deepEqual(JSON.parse(res.body), { before: true, after: true, n: 2 })
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false)
  })
})
