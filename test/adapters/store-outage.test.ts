/**
 * Store outage end to end: an Express app on RedisStore talking to a private redis-server that the
 * test stops and starts by pid (the shared Redis is never touched). Skips when redis-server is
 * absent (fails instead under TETHER_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import { createClient } from 'redis'
import session from '../../src/adapters/express/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { RedisStore } from '../../src/stores/redis.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { hasRedisServer, privateRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait-for.js'
import { newSecret } from '../helpers/secrets.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'

const skip = hasRedisServer() ? false : 'redis-server is not installed'
if (skip && REQUIRE_SERVICES) throw new Error(`${skip}, and TETHER_REQUIRE_SERVICES=1 requires it`)

async function setup(t: TestContext, onStoreError: 'fail-closed' | 'anonymous') {
  const redis = await privateRedis()
  t.after(() => redis.stop())
  const client = createClient({
    url: redis.url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 50 },
  })
  client.on('error', () => {}) // reconnection errors are expected while the server is down
  await client.connect()
  // destroy, not quit: quit waits for a server that may be down.
  t.after(() => client.destroy())
  const events: TetherEvent[] = []
  const app = express()
  app.use(
    session({
      secret: newSecret(),
      store: new RedisStore({ client }),
      storeTimeout: 300,
      onStoreError,
      onEvent: (e) => events.push(e),
    }),
  )
  app.get('/n', (req, res) => {
    const s = req.session as unknown as { n?: number }
    s.n = (s.n ?? 0) + 1
    res.json(s.n)
  })
  app.get('/plain', (_req, res) => {
    res.json('ok')
  })
  app.use(function statusOnly(
    err: { status?: number },
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) {
    res.status(err.status ?? 500).end()
  })
  const srv = await listen(app)
  t.after(() => srv.close())
  return { redis, client, events, port: srv.port }
}

describe('store outage (private redis-server)', { skip }, () => {
  it('answers 503 with Retry-After while Redis is down and resumes when it is back, without a restart', async (t) => {
    const s = await setup(t, 'fail-closed')
    const cookie = cookiePair(await send(s.port, { path: '/n' }), 'sid')!
    assert.equal((await send(s.port, { path: '/n', headers: { cookie } })).body, '2')

    await s.redis.stop()
    const down = await send(s.port, { path: '/n', headers: { cookie } })
    assert.equal(down.status, 503)
    assert.equal(down.headers['retry-after'], '1')
    assert.ok(s.events.some((e) => e.type === 'store.error'))
    assert.equal(
      (await send(s.port, { path: '/plain' })).status,
      200,
      'no cookie: no store I/O, no outage',
    )

    await s.redis.start()
    await waitFor('Redis to answer again', async () => {
      const r = await send(s.port, { path: '/n', headers: { cookie } })
      return r.status === 200
    })
    const fresh = cookiePair(await send(s.port, { path: '/n' }), 'sid')!
    assert.equal(
      (await send(s.port, { path: '/n', headers: { cookie: fresh } })).body,
      '2',
      'sessions persist again',
    )
  })

  it("goes on without a session under onStoreError: 'anonymous'", async (t) => {
    const s = await setup(t, 'anonymous')
    const cookie = cookiePair(await send(s.port, { path: '/n' }), 'sid')!
    await s.redis.stop()
    const res = await send(s.port, { path: '/n', headers: { cookie } })
    assert.equal(res.status, 200)
    assert.equal(res.body, '1', 'served as a new anonymous session')
    assert.ok(s.events.some((e) => e.type === 'store.error'))
  })
})
