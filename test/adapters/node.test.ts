/**
 * The node:http adapter's own API, beyond the behaviour suite every adapter passes (matrix.test.ts,
 * which uses `load(req)` + `commit(res)`): `load(req, res)` committing by itself before the
 * headers, its failed commit answered by `sendError`, headers set before `commit(res)` knew the
 * response, and `proxy: true`.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import { createSessions, type NodeSessionOptions } from '../../src/adapters/node/index.js'
import { csrfToken } from '../../src/csrf/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { sendInRow } from '../helpers/keep-alive.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' }

type Handler = (
  sessions: ReturnType<typeof createSessions>,
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<void>

async function server(t: TestContext, handler: Handler, options: Partial<NodeSessionOptions> = {}) {
  const store = spyStore(new MemoryStore())
  t.after(() => store.close?.())
  const events: TetherEvent[] = []
  const sessions = createSessions({
    secret: newSecret(),
    store,
    onEvent: (e) => events.push(e),
    ...options,
  })
  async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      await handler(sessions, req, res)
    } catch (err) {
      if (!sessions.sendError(err, req, res)) res.writeHead(500).end()
    }
  }
  const srv = await listen((req, res) => void handle(req, res))
  t.after(() => srv.close())
  const call = (method: string, path: string, headers: Record<string, string> = SAME_ORIGIN) =>
    send(srv.port, { method, path, headers })
  return { ...srv, store, events, call }
}

/** Counts in the session and answers with `res.end` only: the commit is left to `load(req, res)`. */
const autoCommit: Handler = async (sessions, req, res) => {
  const session = (await sessions.load(req, res)) as unknown as { n?: number }
  session.n = (session.n ?? 0) + 1
  const body = JSON.stringify({ n: session.n })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
  res.end(body)
}

describe('node:http adapter', () => {
  it('commits by itself before the headers leave when load() is given the response', async (t) => {
    const { store, call } = await server(t, autoCommit)
    const first = await call('POST', '/')
    assert.equal(first.status, 200)
    const cookie = cookiePair(first, 'sid')
    assert.ok(cookie, 'the cookie is on the response the route wrote')
    assert.equal(first.headers['cache-control'], 'no-store')
    assert.equal(store.calls.create, 1)
    assert.deepEqual(JSON.parse((await call('POST', '/', { ...SAME_ORIGIN, cookie })).body), {
      n: 2,
    })
  })

  it('answers a failed automatic commit with sendError on a keep-alive connection that stays usable', async (t) => {
    const { port, store } = await server(t, async (sessions, req, res) => {
      const session = await sessions.load(req, res)
      ;(session as unknown as { a: number }).a = 1
      store.failing = req.url === '/fail' // the store goes down between the route and the commit
      res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' }).end('stored')
    })
    const [failed, next] = await sendInRow(port, [
      { method: 'POST', path: '/fail' },
      { method: 'POST', path: '/' },
    ])
    assert.equal(failed!.status, 503)
    assert.ok(Number(failed!.headers['retry-after']) > 0)
    assert.equal(failed!.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(failed!.headers['etag'], undefined)
    assert.equal(JSON.parse(failed!.body).error, 'TETHER_STORE_UNAVAILABLE')
    assert.equal(next!.status, 200)
    assert.equal(next!.body, 'stored')
    assert.equal(next!.reusedSocket, true, 'both requests used one connection')
  })

  it('commits once, with the headers set before commit(res) was given the response', async (t) => {
    const { store, call } = await server(t, async (sessions, req, res) => {
      const session = await sessions.load(req)
      ;(session as unknown as { a: number }).a = 1
      // Before any response is known: the pre-session nonce cookie waits for commit(res).
      const token = csrfToken(session)
      await session.commit(res)
      await session.commit(res)
      res.end(JSON.stringify({ token: token.length > 0 }))
    })
    const res = await call('POST', '/')
    assert.equal(res.status, 200)
    assert.ok(cookiePair(res, 'sid'))
    assert.ok(cookiePair(res, 'csrf'), 'the nonce cookie set before the response was known')
    assert.equal(res.setCookies.length, 2)
    assert.equal(store.calls.create, 1)
  })

  it('reads https, host and the nearest client address from the proxy with proxy: true', async (t) => {
    // A browser without Sec-Fetch-Site (older ones): the Origin check decides.
    const forwarded = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example',
      'x-forwarded-for': '198.51.100.7, 203.0.113.9',
      origin: 'https://app.example',
    }
    const proxied = await server(t, autoCommit, { proxy: true })
    const res = await proxied.call('POST', '/', forwarded)
    assert.equal(res.status, 200)
    assert.match(res.setCookies[0] ?? '', /^__Host-sid=[^;]+;.*Secure/)
    // The last entry is the one the trusted proxy added; the ones before it are the client's word.
    assert.equal(proxied.events.find((e) => e.type === 'session.created')?.ip, '203.0.113.9')
    // Without proxy: the forwarded host is not believed, so that Origin is another site's.
    const direct = await server(t, autoCommit)
    const refused = await direct.call('POST', '/', forwarded)
    assert.equal(refused.status, 403)
    assert.equal(JSON.parse(refused.body).error, 'TETHER_CSRF_REJECTED')
  })

  it('refuses a proxy option that is not a boolean at startup', () => {
    assert.throws(() => createSessions({ secret: newSecret(), proxy: 1 as never }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"proxy" must be true or false; got 1',
    })
  })
})
