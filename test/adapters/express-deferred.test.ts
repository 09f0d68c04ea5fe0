/**
 * The Express adapter's lazy path: a request without a session cookie that does not ask for
 * anything unsafe gets its session only when the application first reads `req.session` or
 * `req.sessionID`. Until then no id, no hold and no commit; once touched, everything as before.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { isHeld } from '../../src/http/node-hold.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

type Counted = { n?: number }

async function serve(t: TestContext, app: express.Express) {
  const srv = await listen(app)
  t.after(() => srv.close())
  return srv
}

function appWith(options: { saveUninitialized?: boolean } = {}) {
  const store = spyStore(new MemoryStore())
  const app = express()
  app.use(session({ ...options, secret: newSecret(), store }))
  return { app, store }
}

describe('Express: sessions made on first use', () => {
  it('does no session work for a request that never touches its session', async (t) => {
    const { app, store } = appWith()
    let wrapped: boolean | undefined
    app.get('/plain', (_req, res) => {
      wrapped = isHeld(res)
      res.json({ ok: true })
    })
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/plain' })
    assert.equal(res.status, 200)
    assert.equal(wrapped, false, 'the response is not held')
    assert.deepEqual(res.setCookies, [])
    assert.equal(res.headers['cache-control'], undefined)
    assert.equal(store.total(), 0)
  })

  it('defers a request that carries only other cookies, and starts one that carries the session cookie', async (t) => {
    const { app } = appWith()
    let wrapped: boolean | undefined
    app.get('/plain', (_req, res) => {
      wrapped = isHeld(res)
      res.json({ ok: true })
    })
    const srv = await serve(t, app)
    await send(srv.port, { path: '/plain', headers: { cookie: 'theme=dark; lang=en' } })
    assert.equal(wrapped, false, 'other cookies only: deferred, the response is not held')
    const forged = await send(srv.port, {
      path: '/plain',
      headers: { cookie: 'theme=dark; sid=x' },
    })
    assert.equal(forged.status, 200)
    assert.equal(wrapped, true, 'a session cookie (even a bad one): the full start, held')
  })

  it('makes the session on first read and commits it before the headers', async (t) => {
    const { app, store } = appWith()
    let id: string | undefined
    app.get('/count', (req, res) => {
      const sess = req.session as unknown as Counted
      sess.n = (sess.n ?? 0) + 1
      id = req.sessionID
      res.json({ n: sess.n })
    })
    const srv = await serve(t, app)
    const first = await send(srv.port, { path: '/count' })
    assert.equal(first.body, '{"n":1}')
    assert.equal(first.setCookies.length, 1)
    assert.equal(typeof id, 'string')
    assert.equal(store.calls.create, 1)
    const second = await send(srv.port, {
      path: '/count',
      headers: { cookie: first.setCookies[0]!.split(';')[0]! },
    })
    assert.equal(second.body, '{"n":2}')
  })

  it('lets the response go at once when the session it made stays empty, and holds it when not', async (t) => {
    const { app, store } = appWith()
    const sentAtFirstWrite: Record<string, boolean> = {}
    app.get('/:mode', (req, res) => {
      const sess = req.session as unknown as Counted
      if (req.params['mode'] === 'write') sess.n = 1
      res.write('x')
      sentAtFirstWrite[req.params['mode']] = res.headersSent
      res.end()
    })
    const srv = await serve(t, app)
    const empty = await send(srv.port, { path: '/read' })
    const written = await send(srv.port, { path: '/write' })
    assert.deepEqual(sentAtFirstWrite, { read: true, write: false })
    assert.deepEqual(empty.setCookies, [])
    assert.equal(written.setCookies.length, 1, 'held until the new session was stored')
    assert.equal(store.calls.create, 1)
  })

  it('reads req.sessionID first just as well: one session, one id', async (t) => {
    const { app } = appWith()
    app.get('/id', (req, res) => {
      const before = req.sessionID
      res.json({ same: before === req.session.id && before === req.sessionID })
    })
    const srv = await serve(t, app)
    assert.equal((await send(srv.port, { path: '/id' })).body, '{"same":true}')
  })

  it('reaches the session from a mounted sub-application', async (t) => {
    const { app } = appWith()
    const sub = express()
    sub.get('/count', (req, res) => {
      const sess = req.session as unknown as Counted
      sess.n = 1
      res.json({ n: sess.n })
    })
    app.use('/sub', sub)
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/sub/count' })
    assert.equal(res.body, '{"n":1}')
    assert.equal(res.setCookies.length, 1)
  })

  it('lets the application replace or drop the session, as express-session', async (t) => {
    const { app } = appWith()
    app.get('/drop', (req, res) => {
      ;(req as { session?: unknown }).session = null
      res.json({ session: req.session })
    })
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/drop' })
    assert.equal(res.body, '{"session":null}')
    assert.deepEqual(res.setCookies, [])
  })

  it('starts one session for the request when middleware reads it through a derived object', async (t) => {
    const { app, store } = appWith()
    app.use(function view(req, _res, next) {
      // What some middleware does: an object derived from the request (Object.create(req)).
      const derived = Object.create(req) as typeof req
      ;(derived.session as unknown as Counted).n = 1
      next()
    })
    app.get('/count', (req, res) => {
      const sess = req.session as unknown as Counted
      sess.n = (sess.n ?? 0) + 1
      res.json({ n: sess.n })
    })
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/count' })
    assert.equal(res.body, '{"n":2}', 'one session, seen through both objects')
    assert.equal(res.setCookies.length, 1)
    assert.equal(store.calls.create, 1)
  })

  it('drops the session for good when the application deletes it before any read', async (t) => {
    const { app, store } = appWith()
    app.get('/drop', (req, res) => {
      delete (req as { session?: unknown }).session
      res.json({ id: req.sessionID ?? null, session: req.session ?? null })
    })
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/drop' })
    assert.equal(res.body, '{"id":null,"session":null}')
    assert.deepEqual(res.setCookies, [])
    assert.equal(store.total(), 0)
  })

  it('keeps the full path where a new session is saved anyway (saveUninitialized)', async (t) => {
    const { app, store } = appWith({ saveUninitialized: true })
    app.get('/plain', (_req, res) => res.json({ ok: true }))
    const srv = await serve(t, app)
    const res = await send(srv.port, { path: '/plain' })
    assert.equal(res.setCookies.length, 1)
    assert.equal(store.calls.create, 1)
  })

  it('keeps every check on unsafe requests without a cookie (the origin check refuses)', async (t) => {
    const { app } = appWith()
    app.post('/form', (_req, res) => res.json({ ok: true }))
    const srv = await serve(t, app)
    const res = await send(srv.port, {
      method: 'POST',
      path: '/form',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    })
    assert.equal(res.status, 403)
  })
})
