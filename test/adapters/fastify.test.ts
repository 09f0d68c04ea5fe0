/**
 * The Fastify plugin's own API, beyond what the behaviour suite (matrix.test.ts) shares with the
 * other adapters: @fastify/session's session methods and callbacks, `fastify.decryptSession`,
 * `request.sessionStore`, @fastify/session-style stores and the exported `MemoryStore`, and the
 * engine rules @fastify/session's suite brought up. Through `inject` (Fastify's own test client).
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it, type TestContext } from 'node:test'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifySession, {
  FastifySession,
  MemoryStore as FastifyMemoryStore,
  Store,
  type FastifySessionOptions,
} from '../../src/adapters/fastify/index.js'
import { sessionRef } from '../../src/codec/ids.js'
import { RESERVED_KEYS } from '../../src/core/session-data.js'
import { isTetherError } from '../../src/errors.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { tamper } from '../helpers/tamper.js'

declare module '../../src/index.js' {
  interface SessionData {
    note: string
    count: number
  }
}

async function build(
  t: TestContext,
  options: Partial<FastifySessionOptions> = {},
  routes: (app: FastifyInstance) => void = () => {},
): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifySession, { secret: newSecret(), ...options })
  routes(app)
  await app.ready()
  t.after(() => app.close())
  return app
}

/** The session cookie's `sid=<token>` pair, or undefined. */
function sid(res: LightMyRequestResponse): string | undefined {
  const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  return lines.find((line) => line.startsWith('sid='))?.split(';')[0]
}

function setCookieLine(res: LightMyRequestResponse): string {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).join('\n')
}

describe('fastify plugin: @fastify/session session API', () => {
  it('reads and writes data through get/set and plain properties across requests', async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'hello')
        request.session.count = 1
        reply.send({ ok: true })
      })
      f.get('/read', (request, reply) => {
        reply.send({ note: request.session.get('note'), count: request.session.count })
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { note: 'hello', count: 1 })
  })

  it('regenerate(keys) issues a new id, keeps the listed keys and the cookie settings', async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/start', (request, reply) => {
        request.session.set('note', 'kept')
        request.session.set('count', 7)
        request.session.options({ maxAge: 3_600_000 })
        reply.send({ id: request.session.sessionId })
      })
      f.post('/regenerate', async (request) => {
        const before = request.session.sessionId
        await request.session.regenerate(['note'])
        return {
          changed: request.session.sessionId !== before,
          note: request.session.get('note') ?? null,
          count: request.session.get('count') ?? null,
          maxAge: request.session.cookie.originalMaxAge,
        }
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/start' }))!
    const res = await app.inject({ method: 'POST', url: '/regenerate', headers: { cookie } })
    assert.deepEqual(res.json(), { changed: true, note: 'kept', count: null, maxAge: 3_600_000 })
    assert.notEqual(sid(res), cookie)
    assert.match(setCookieLine(res), /Expires=/)
  })

  it('calls back with null on success, and destroy() leaves request.session null', async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/callbacks', (request, reply) => {
        const seen: unknown[] = []
        request.session.set('note', 'x')
        request.session.save((saveErr) => {
          seen.push(saveErr === null)
          request.session.reload((reloadErr) => {
            seen.push(reloadErr === null, request.session.get('note'))
            request.session.destroy((destroyErr) => {
              seen.push(destroyErr === null, request.session === null)
              reply.send(seen)
            })
          })
        })
      })
    })
    const res = await app.inject({ method: 'POST', url: '/callbacks' })
    assert.deepEqual(res.json(), [true, true, 'x', true, true])
  })

  it('reload() of a session never saved resolves empty, under the same id', async (t) => {
    const app = await build(t, {}, (f) => {
      f.get('/', async (request) => {
        request.session.set('note', 'unsaved')
        const id = request.session.sessionId
        await request.session.reload()
        return {
          note: request.session.get('note') ?? null,
          sameId: request.session.sessionId === id,
        }
      })
    })
    const res = await app.inject({ url: '/' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { note: null, sameId: true })
  })

  it('reload() of a session removed meanwhile gives a new, empty session under a new id', async (t) => {
    const store = new MemoryStore()
    t.after(() => store.close())
    const app = await build(t, { store }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'gone soon')
        reply.send({ ok: true })
      })
      f.post('/reload', async (request) => {
        const id = request.session.sessionId
        await store.destroy(request.session.ref)
        await request.session.reload()
        request.session.set('count', 1)
        return {
          note: request.session.get('note') ?? null,
          newId: request.session.sessionId !== id,
        }
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    const res = await app.inject({ method: 'POST', url: '/reload', headers: { cookie } })
    assert.deepEqual(res.json(), { note: null, newId: true })
    assert.ok(sid(res) !== undefined && sid(res) !== cookie)
  })

  it('isModified() follows changes and save(); isSaved() is true once saved', async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/', async (request) => {
        const states = [request.session.isModified(), request.session.isSaved()]
        request.session.set('count', 1)
        states.push(request.session.isModified())
        await request.session.save()
        states.push(request.session.isModified(), request.session.isSaved())
        return states
      })
    })
    const res = await app.inject({ method: 'POST', url: '/' })
    assert.deepEqual(res.json(), [false, false, true, false, true])
  })

  it("options() changes this session's cookie only, and never drops HttpOnly", async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/override', (request, reply) => {
        request.session.set('note', 'o')
        request.session.options({ maxAge: 60_000, httpOnly: false })
        reply.send({ ok: true })
      })
      f.post('/plain', (request, reply) => {
        request.session.set('note', 'p')
        reply.send({ ok: true })
      })
    })
    const overridden = setCookieLine(await app.inject({ method: 'POST', url: '/override' }))
    assert.match(overridden, /Expires=/)
    assert.match(overridden, /HttpOnly/)
    const plain = setCookieLine(await app.inject({ method: 'POST', url: '/plain' }))
    assert.doesNotMatch(plain, /Expires=/)
  })

  it('a cookie maxAge wins over an expires given with it', async (t) => {
    const app = await build(
      t,
      { cookie: { maxAge: 60_000, expires: new Date(34214461000) } },
      (f) => {
        f.post('/', (request, reply) => {
          request.session.set('note', 'n')
          reply.send({ ok: true })
        })
      },
    )
    const line = setCookieLine(await app.inject({ method: 'POST', url: '/' }))
    assert.doesNotMatch(line, /1971/)
    assert.match(line, new RegExp(`Expires=[^;]*${new Date().getUTCFullYear()}`))
  })

  it("reserves every name of request.session's API, so no data key can shadow one", () => {
    const names = new Set<string>()
    for (
      let o: object = FastifySession.prototype;
      o !== Object.prototype;
      o = Object.getPrototypeOf(o)
    )
      for (const name of Object.getOwnPropertyNames(o)) names.add(name)
    assert.deepEqual(
      [...names].filter((name) => !RESERVED_KEYS.has(name)),
      [],
    )
  })

  it('rejects with TETHER_STORE_UNAVAILABLE, the store error as cause, and answers 503', async (t) => {
    const store = spyStore(new MemoryStore())
    t.after(() => store.close?.())
    let caught: unknown
    const app = await build(t, { store }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'n')
        reply.send({ ok: true })
      })
      f.post('/destroy', async (request) => {
        store.failing = true
        caught = await request.session.destroy().catch((err: unknown) => err)
        throw caught
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    const res = await app.inject({ method: 'POST', url: '/destroy', headers: { cookie } })
    assert.ok(isTetherError(caught) && caught.code === 'TETHER_STORE_UNAVAILABLE')
    assert.equal((caught.cause as Error).message, 'store is down (test)')
    assert.equal(res.statusCode, 503)
    assert.ok(Number(res.headers['retry-after']) > 0)
  })
})

describe('fastify plugin: requests', () => {
  it('sends the session cookie when an async handler calls reply.send() without returning it', async (t) => {
    const app = await build(t, {}, (f) => {
      f.post('/', async (request, reply) => {
        request.session.set('count', 1)
        await Promise.resolve()
        reply.send({ ok: true })
      })
      f.get('/', (request, reply) => {
        reply.send({ count: request.session.get('count') ?? null })
      })
    })
    const res = await app.inject({ method: 'POST', url: '/' })
    assert.deepEqual(res.json(), { ok: true })
    const cookie = sid(res)
    assert.ok(cookie)
    const read = await app.inject({ url: '/', headers: { cookie } })
    assert.deepEqual(read.json(), { count: 1 })
  })

  it('outside the cookie path (RFC 6265 path-match) gives an inert session', async (t) => {
    const store = spyStore(new MemoryStore())
    t.after(() => store.close?.())
    const app = await build(t, { store, cookie: { path: '/check' } }, (f) => {
      f.post('/check', (request, reply) => {
        request.session.set('note', 'bar')
        reply.send({ ok: true })
      })
      for (const url of ['/check/page', '/check_page1', '/chck']) {
        f.get(url, (request, reply) => {
          const note = request.session.get('note') ?? null
          request.session.set('count', 1)
          reply.send({ note })
        })
      }
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/check' }))!
    const inside = await app.inject({ url: '/check/page', headers: { cookie } })
    assert.deepEqual(inside.json(), { note: 'bar' })
    const writes = store.calls.create + store.calls.update
    for (const url of ['/check_page1', '/chck']) {
      const res = await app.inject({ url, headers: { cookie } })
      assert.equal(res.statusCode, 200, url)
      assert.deepEqual(res.json(), { note: null }, url)
      assert.equal(sid(res), undefined, url)
    }
    assert.equal(store.calls.create + store.calls.update, writes)
  })
})

describe('fastify.decryptSession', () => {
  async function withSession(t: TestContext, options: Partial<FastifySessionOptions> = {}) {
    const store = spyStore(new MemoryStore())
    t.after(() => store.close?.())
    const app = await build(t, { store, ...options }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'from a request')
        reply.send({ ok: true })
      })
      f.get('/read', (request, reply) => {
        reply.send({ note: request.session.get('note'), count: request.session.get('count') })
      })
      f.post('/adopt', async (request) => {
        await f.decryptSession(String(request.headers['x-session']), request)
        request.session.set('count', 5)
        return { note: request.session.get('note') }
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    return { app, store, cookie, value: cookie.slice('sid='.length) }
  }

  it('loads the session a cookie value names onto any object, with its own cookie options', async (t) => {
    const { app, cookie, value } = await withSession(t)
    const holder: { session?: { get(k: 'note'): unknown } } = {}
    await app.decryptSession(value, holder, { maxAge: 86_400 })
    const session = (holder as { session: import('fastify').FastifyRequest['session'] }).session
    assert.equal(session.get('note'), 'from a request')
    assert.equal(session.cookie.originalMaxAge, 86_400)
    session.set('count', 2)
    await session.save()
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { note: 'from a request', count: 2 })
  })

  it('calls back, and gives a forged value a new session without reading the store', async (t) => {
    const { app, store, value } = await withSession(t)
    const reads = store.calls.get
    const holder: Record<string, unknown> = {}
    const err = await new Promise((resolve) => {
      app.decryptSession(tamper(value), holder, resolve)
    })
    assert.equal(err, null)
    const session = holder['session'] as import('fastify').FastifyRequest['session']
    assert.equal(session.get('note'), undefined)
    assert.equal(store.calls.get, reads)
  })

  it("on a request of this server, commits the loaded session with that request's response", async (t) => {
    const { app, cookie, value } = await withSession(t)
    const res = await app.inject({ method: 'POST', url: '/adopt', headers: { 'x-session': value } })
    assert.deepEqual(res.json(), { note: 'from a request' })
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { note: 'from a request', count: 5 })
  })
})

describe('fastify plugin: stores', () => {
  it("request.sessionStore is the store given, or Tether's own MemoryStore without one", async (t) => {
    const given = new FastifyMemoryStore()
    let seen: unknown
    await (
      await build(t, { store: given }, (f) => {
        f.get('/', (request, reply) => reply.send({ same: request.sessionStore === given }))
      })
    )
      .inject({ url: '/' })
      .then((res) => assert.deepEqual(res.json(), { same: true }))
    const app = await build(t, {}, (f) => {
      f.get('/', (request, reply) => {
        seen = request.sessionStore
        reply.send({})
      })
    })
    await app.inject({ url: '/' })
    assert.ok(seen instanceof MemoryStore)
  })

  it('works with a @fastify/session-style callback store, keyed by a hash of the id', async (t) => {
    const map = new Map<string, unknown>()
    const store = {
      set(id: string, data: unknown, cb: (err?: unknown) => void) {
        map.set(id, data)
        cb(null)
      },
      get(id: string, cb: (err: unknown, data?: unknown) => void) {
        cb(null, map.get(id))
      },
      destroy(id: string, cb: (err?: unknown) => void) {
        map.delete(id)
        cb(null)
      },
    }
    let id = ''
    const app = await build(t, { store }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'callback store')
        id = request.session.sessionId
        reply.send({ ok: true })
      })
      f.get('/read', (request, reply) => reply.send({ note: request.session.get('note') }))
      f.post('/destroy', async (request) => {
        await request.session.destroy()
        return { ok: true }
      })
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    assert.deepEqual([...map.keys()], [sessionRef(id)])
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { note: 'callback store' })
    await app.inject({ method: 'POST', url: '/destroy', headers: { cookie } })
    assert.equal(map.size, 0)
  })

  it('removes an expired session it meets in a store that kept it', async (t) => {
    const map = new Map<string, { tether: Record<string, number> }>()
    const destroyed: string[] = []
    const store = {
      set(id: string, data: { tether: Record<string, number> }, cb: (err?: unknown) => void) {
        map.set(id, JSON.parse(JSON.stringify(data)) as { tether: Record<string, number> })
        cb()
      },
      get(id: string, cb: (err: unknown, data?: unknown) => void) {
        cb(null, map.get(id))
      },
      destroy(id: string, cb: (err?: unknown) => void) {
        destroyed.push(id)
        map.delete(id)
        cb()
      },
    }
    const app = await build(t, { store }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('note', 'old')
        reply.send({ ok: true })
      })
      f.get('/read', (request, reply) => reply.send({ note: request.session.get('note') ?? null }))
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    const [key, stored] = [...map.entries()][0]!
    stored.tether['idleExpiresAt'] = Date.now() - 1
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { note: null })
    assert.deepEqual(destroyed, [key])
    assert.equal(map.has(key), false)
  })

  it('exports MemoryStore (also as Store): an EventEmitter keeping a given Map as .store', () => {
    assert.equal(Store, FastifyMemoryStore)
    const map = new Map<string, unknown>()
    const store = new FastifyMemoryStore(map)
    assert.ok(store instanceof EventEmitter)
    assert.equal(store.store, map)
    const seen: unknown[] = []
    store.set('a', { key: 'value' }, (err) => seen.push(err))
    store.get('a', (err, value) => seen.push(err, value))
    store.get('b', (err, value) => seen.push(err, value))
    store.destroy('a', (err) => seen.push(err))
    assert.deepEqual(seen, [undefined, null, { key: 'value' }, null, undefined, undefined])
    assert.equal(map.size, 0)
  })

  it('MemoryStore is bounded and forgets a session whose cookie expired', () => {
    const store = new FastifyMemoryStore(new Map(), { maxEntries: 2 })
    const done = () => {}
    store.set('a', { cookie: {} }, done)
    store.set('b', { cookie: { expires: new Date(Date.now() - 1000).toISOString() } }, done)
    store.set('c', { cookie: {} }, done)
    assert.deepEqual([...store.store.keys()], ['b', 'c'])
    let value: unknown = 'unset'
    store.get('b', (_err, v) => (value = v))
    assert.equal(value, undefined)
    assert.deepEqual([...store.store.keys()], ['c'])
  })

  it('keeps sessions across requests with the exported MemoryStore as store', async (t) => {
    const store = new FastifyMemoryStore()
    const app = await build(t, { store }, (f) => {
      f.post('/write', (request, reply) => {
        request.session.set('count', 3)
        reply.send({ ok: true })
      })
      f.get('/read', (request, reply) => reply.send({ count: request.session.get('count') }))
    })
    const cookie = sid(await app.inject({ method: 'POST', url: '/write' }))!
    assert.equal(store.store.size, 1)
    const read = await app.inject({ url: '/read', headers: { cookie } })
    assert.deepEqual(read.json(), { count: 3 })
  })
})

describe('http engine rules, met through Fastify', () => {
  it('never stores a new session whose Secure cookie cannot be sent over http', async (t) => {
    const store = spyStore(new MemoryStore())
    t.after(() => store.close?.())
    const app = await build(t, { store, cookie: { secure: true } }, (f) => {
      f.post('/', (request, reply) => {
        request.session.set('note', 'nobody gets this')
        reply.send({ ok: true })
      })
    })
    const res = await app.inject({ method: 'POST', url: '/' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['set-cookie'], undefined)
    assert.equal(store.calls.create, 0)
  })

  it('sends SameSite=Lax, not SameSite=None, on a cookie that is not Secure', async (t) => {
    const app = await build(t, { cookie: { secure: 'auto', sameSite: 'none' } }, (f) => {
      f.post('/', (request, reply) => {
        request.session.set('note', 'n')
        reply.send({ ok: true })
      })
    })
    const line = setCookieLine(await app.inject({ method: 'POST', url: '/' }))
    assert.match(line, /SameSite=Lax/)
    assert.doesNotMatch(line, /Secure/)
  })

  it('refuses a cookie.secure that is not true, false or "auto" at startup', async () => {
    const app = Fastify()
    void app.register(fastifySession, { secret: newSecret(), cookie: { secure: 'true' as never } })
    await assert.rejects(async () => void (await app.ready()), {
      code: 'TETHER_INVALID_OPTION',
      message: '"cookie.secure" must be true, false or "auto"; got "true"',
    })
  })
})
