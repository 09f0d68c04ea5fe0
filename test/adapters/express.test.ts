import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express, { type ErrorRequestHandler, type Request, type Response } from 'express'
import session from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

declare module '../../src/index.js' {
  interface SessionData {
    views: number
    who: string
  }
}

async function server(
  t: TestContext,
  options: Partial<ExpressSessionOptions> = {},
  routes?: (app: express.Express) => void,
) {
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore())
  const mw = session({ secret: newSecret(), store, onEvent: (e) => events.push(e), ...options })
  const app = express()
  app.use(mw)
  app.get('/views', (req: Request, res: Response) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ views: req.session.views, id: req.sessionID === req.session.id })
  })
  app.get('/peek', (req, res) => {
    res.json({ views: req.session.views ?? null, authAge: req.session.authAge })
  })
  app.post('/login/:user', async (req, res) => {
    await req.session.login(req.params.user)
    res.json({ ok: true })
  })
  app.post('/logout', async (req, res) => {
    await req.session.logout()
    res.json({ ok: true })
  })
  app.get('/mine', async (req, res) => {
    res.json(await mw.manager.listUserSessions(req.session.who ?? 'alice'))
  })
  routes?.(app)
  app.use(((err, _req, res, _next) => {
    res
      .status((err as { status?: number }).status ?? 500)
      .json({ code: (err as { code?: string }).code })
  }) as ErrorRequestHandler)
  const srv = await listen(app)
  t.after(() => srv.close())
  return { ...srv, store, events, mw }
}

describe('express adapter', () => {
  it('creates a session only when it holds data, with secure defaults', async (t) => {
    const s = await server(t)
    const empty = await send(s.port, { path: '/peek' })
    assert.deepEqual(empty.setCookies, [], 'saveUninitialized is false')
    const res = await send(s.port, { path: '/views' })
    assert.equal(res.setCookies.length, 1)
    const line = res.setCookies[0]!
    assert.match(line, /^sid=t1\./)
    assert.match(line, /HttpOnly/)
    assert.match(line, /SameSite=Lax/)
    assert.doesNotMatch(line, /Secure/, 'plain http: no Secure, so the name is sid not __Host-sid')
    assert.deepEqual(JSON.parse(res.body), { views: 1, id: true })
  })

  it('persists data across requests and sends no cookie again for unchanged cookies', async (t) => {
    const s = await server(t)
    const first = await send(s.port, { path: '/views' })
    const cookie = cookiePair(first, 'sid')!
    const second = await send(s.port, { path: '/views', headers: { cookie } })
    assert.equal(JSON.parse(second.body).views, 2)
    assert.deepEqual(second.setCookies, [])
  })

  it('touches, never rewrites, a session only read past touchAfter while the clock ticks', async (t) => {
    // Date.now() a millisecond later at every call: the cookie's lifetime, read back, used to look
    // changed (originalMaxAge one short of cookie.maxAge), which turned a touch into a full write.
    let wall = Date.now()
    t.mock.method(Date, 'now', () => wall++)
    const clock = manualClock(wall)
    const s = await server(t, { clock, cookie: { maxAge: 3_600_000 } })
    const cookie = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    clock.advance(2 * 60_000)
    const { update, touch } = s.store.calls
    const read = await send(s.port, { path: '/peek', headers: { cookie } })
    assert.equal(JSON.parse(read.body).views, 1)
    assert.equal(s.store.calls.update, update, 'no write: nothing changed')
    assert.equal(s.store.calls.touch, touch + 1, 'one lazy touch')
  })

  it('names the cookie __Host-sid and marks it Secure behind a trusted https proxy', async (t) => {
    const s = await server(t, { proxy: true })
    const res = await send(s.port, { path: '/views', headers: { 'x-forwarded-proto': 'https' } })
    assert.match(res.setCookies[0]!, /^__Host-sid=t1\..*; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    const again = await send(s.port, {
      path: '/views',
      headers: { 'x-forwarded-proto': 'https', cookie: cookiePair(res, '__Host-sid')! },
    })
    assert.equal(JSON.parse(again.body).views, 2)
  })

  it('treats hostile cookie headers as no session, without a store lookup or a 500', async (t) => {
    const s = await server(t)
    const good = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    const value = good.slice(4)
    const before = s.store.calls.get
    const hostile: (string | string[])[] = [
      '',
      'sid=' + 'A'.repeat(10_000),
      'sid=' + value.slice(0, -3),
      'sid=' + value.slice(0, 20) + '\xff\xfe' + value.slice(22),
      'sid=t9' + value.slice(2),
      'sid=' + value.replace(/\.[^.]+$/, '.!!!'),
      `sid=${value}; sid=${value.slice(0, -1)}B`,
      ['sid=abc', 'sid=def'],
      'sid=%E0%A4%A',
    ]
    for (const cookie of hostile) {
      const res = await send(s.port, { path: '/peek', headers: { cookie } })
      assert.equal(res.status, 200)
      assert.equal(JSON.parse(res.body).views, null)
    }
    assert.equal(s.store.calls.get, before, 'no store read for any rejected cookie')
    assert.ok(s.events.filter((e) => e.type.startsWith('token.')).length >= hostile.length - 1)
  })

  it('rotates the id at login, removes the old session and lists the new one', async (t) => {
    const s = await server(t)
    const anon = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    const login = await send(s.port, {
      method: 'POST',
      path: '/login/alice',
      headers: { cookie: anon },
    })
    const authed = cookiePair(login, 'sid')!
    assert.notEqual(authed, anon)
    const old = await send(s.port, { path: '/peek', headers: { cookie: anon } })
    assert.equal(JSON.parse(old.body).views, null, 'the pre-login id no longer works (no fixation)')
    const peek = JSON.parse(
      (await send(s.port, { path: '/peek', headers: { cookie: authed } })).body,
    )
    assert.equal(peek.views, 1, 'data survives login')
    assert.equal(typeof peek.authAge, 'number')
    const mine = JSON.parse(
      (await send(s.port, { path: '/mine', headers: { cookie: authed } })).body,
    )
    assert.equal(mine.length, 1)
    assert.doesNotMatch(
      JSON.stringify(mine),
      new RegExp(authed.split('.')[3]!),
      'no id in the listing',
    )
  })

  it('logs out: store record gone, cookie cleared with the same attributes', async (t) => {
    const s = await server(t)
    const authed = cookiePair(await send(s.port, { method: 'POST', path: '/login/bob' }), 'sid')!
    const out = await send(s.port, { method: 'POST', path: '/logout', headers: { cookie: authed } })
    assert.match(
      out.setCookies[0]!,
      /^sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/,
    )
    const after = await send(s.port, { path: '/peek', headers: { cookie: authed } })
    assert.equal(JSON.parse(after.body).views, null)
  })

  it('revokes sessions through .manager', async (t) => {
    const s = await server(t)
    const a = cookiePair(await send(s.port, { method: 'POST', path: '/login/carol' }), 'sid')!
    const b = cookiePair(await send(s.port, { method: 'POST', path: '/login/carol' }), 'sid')!
    const listed = await s.mw.manager.listUserSessions('carol')
    assert.equal(listed.length, 2)
    assert.equal(await s.mw.manager.revokeSession(listed[0]!.ref, { userId: 'carol' }), true)
    const statuses = await Promise.all(
      [a, b].map(
        async (c) =>
          JSON.parse((await send(s.port, { path: '/peek', headers: { cookie: c } })).body).authAge,
      ),
    )
    assert.equal(
      statuses.filter((x) => x === null).length,
      1,
      'exactly the revoked one is anonymous',
    )
  })

  it('answers 503 with Retry-After before any header when the store is down, and recovers', async (t) => {
    const s = await server(t)
    const cookie = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    s.store.failing = true
    const down = await send(s.port, { path: '/views', headers: { cookie } })
    assert.equal(down.status, 503)
    assert.equal(down.headers['retry-after'], '1')
    assert.equal(JSON.parse(down.body).code, 'TETHER_STORE_UNAVAILABLE')
    const noCookie = await send(s.port, { path: '/peek' })
    assert.equal(noCookie.status, 200, 'a request without a session cookie never touches the store')
    s.store.failing = false
    assert.equal(
      JSON.parse((await send(s.port, { path: '/views', headers: { cookie } })).body).views,
      2,
    )
  })

  it('turns a failed write after the handler into a 503 instead of a 200 that lost its data', async (t) => {
    const s = await server(t)
    s.store.failing = true
    const res = await send(s.port, { path: '/views' })
    assert.equal(res.status, 503)
    assert.deepEqual(res.setCookies, [])
  })

  it('offers callback and promise forms of save, reload, regenerate and destroy', async (t) => {
    const s = await server(t, {}, (app) => {
      app.get('/methods', async (req, res) => {
        req.session.views = 5
        await req.session.save()
        const id = req.sessionID
        await new Promise<void>((resolve, reject) => {
          req.session.reload((err) => (err instanceof Error ? reject(err) : resolve()))
        })
        const reloaded = req.session.views
        await req.session.regenerate()
        const regenerated = req.sessionID !== id && req.session.views === undefined
        req.session.views = 1
        await new Promise<void>((resolve) => {
          req.session.destroy(() => resolve())
        })
        res.json({ reloaded, regenerated, gone: req.session === undefined })
      })
    })
    const res = await send(s.port, { path: '/methods' })
    assert.deepEqual(JSON.parse(res.body), { reloaded: 5, regenerated: true, gone: true })
  })

  it('counts exactly with update(fn) under parallel requests', async (t) => {
    const s = await server(t, {}, (app) => {
      app.get('/inc', async (req, res) => {
        await req.session.update((data) => {
          data['n'] = ((data['n'] as number) ?? 0) + 1
        })
        res.end()
      })
      app.get('/n', (req, res) => {
        res.json((req.session as unknown as { n?: number }).n ?? 0)
      })
    })
    const cookie = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    await Promise.all(
      Array.from({ length: 40 }, () => send(s.port, { path: '/inc', headers: { cookie } })),
    )
    assert.equal(JSON.parse((await send(s.port, { path: '/n', headers: { cookie } })).body), 40)
  })

  it('refuses bad options at startup with a stable code', () => {
    const secret = newSecret()
    assert.throws(() => session({ secret: 'keyboard cat' }), { code: 'TETHER_WEAK_SECRET' })
    assert.throws(() => session({} as ExpressSessionOptions), {
      code: 'TETHER_INVALID_OPTION',
      message: /"secret" is required/,
    })
    assert.throws(() => session({ secret, cookie: { httpOnly: false } }), {
      code: 'TETHER_INVALID_OPTION',
      message: /httpOnly/,
    })
    assert.throws(() => session({ secret, unset: 'drop' as 'keep' }), {
      code: 'TETHER_INVALID_OPTION',
      message: /unset option must be/,
    })
    assert.throws(() => session({ secret, genid: 'x' as never }), {
      code: 'TETHER_INVALID_OPTION',
      message: /genid option must be a function/,
    })
    assert.throws(() => session({ secret, name: 'bad name;' }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"name"/,
    })
    assert.throws(() => session({ secret, renewAfter: 'soon' }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"renewAfter" must be a positive number of ms/,
    })
    assert.throws(() => session({ secret, renewGrace: 0 }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"renewGrace"/,
    })
    // Renewal needs atomic writes: asked for explicitly on a wrapped express-session store, refused.
    assert.throws(() => session({ secret, renewAfter: '5m', store: new session.MemoryStore() }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"renewAfter" needs a store with atomic writes/,
    })
  })

  it('wraps an express-session store passed as store', async (t) => {
    const legacy = new session.MemoryStore()
    const s = await server(t, { store: legacy })
    const cookie = cookiePair(await send(s.port, { path: '/views' }), 'sid')!
    assert.equal(
      JSON.parse((await send(s.port, { path: '/views', headers: { cookie } })).body).views,
      2,
    )
    const count = await new Promise<number>((resolve) => legacy.length((_e, n) => resolve(n!)))
    assert.equal(count, 1)
    const all = await new Promise<Record<string, unknown>>((resolve) =>
      legacy.all((_e, x) => resolve(x!)),
    )
    assert.ok(
      !Object.keys(all).some((k) => cookie.includes(k)),
      'the store key is a hash, not the id',
    )
  })
})
