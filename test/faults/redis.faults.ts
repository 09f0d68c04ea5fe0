/**
 * Redis faults under steady load (issue 13, point 1): a private redis-server, started and killed by
 * pid by this file, behind an Express app on Tether's published entry points. Skips with a reason
 * when redis-server is not installed; fails instead under TETHER_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createClient } from 'redis'
import { RedisStore } from 'tether-session/stores/redis'
import { startFaultApp } from '../helpers/fault-app.js'
import { redisServerMissing, startFaultRedis } from '../helpers/fault-redis.js'
import { slowProxy } from '../helpers/fault-slow-proxy.js'
import { cookiePair, send } from '../helpers/http.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'
import { assertWritesKept, loadThroughFault, loadThroughSlowStore } from './outage-scenario.js'

const skip = redisServerMissing()
if (skip && REQUIRE_SERVICES) throw new Error(`${skip}, and TETHER_REQUIRE_SERVICES=1 requires it`)

const STORE_TIMEOUT_MS = 500

async function connectedClient(t: TestContext, port: number) {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    // Fail at once while disconnected, instead of queueing commands until storeTimeout.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 50, connectTimeout: 500 },
  })
  client.on('error', () => {}) // connection errors are the point of these tests
  await client.connect()
  // destroy, not quit: quit waits for a server that may be down.
  t.after(() => client.destroy())
  return client
}

describe('Redis faults under load', { skip }, () => {
  for (const policy of ['fail-closed', 'anonymous'] as const) {
    it(`survives a SIGKILL and restart of Redis (${policy}): bounded answers, nothing lost`, async (t) => {
      const redis = await startFaultRedis({ persist: true })
      t.after(() => redis.close())
      const client = await connectedClient(t, redis.port)
      const app = await startFaultApp({
        store: new RedisStore({ client }),
        storeTimeout: STORE_TIMEOUT_MS,
        onStoreError: policy,
      })
      t.after(() => app.close())
      const name = `redis SIGKILL + restart, data kept (${policy})`
      const expect = {
        policy,
        storeTimeoutMs: STORE_TIMEOUT_MS,
        after: 'same-user',
        settleMs: 1000,
      } as const
      const run = await loadThroughFault(
        t,
        app,
        { name, down: () => redis.kill('SIGKILL'), up: () => redis.start() },
        expect,
      )
      await assertWritesKept(t, app, run, expect, name)
    })
  }

  it('logs users out cleanly when Redis restarts empty: no 500, and a new login works', async (t) => {
    const redis = await startFaultRedis({ persist: false })
    t.after(() => redis.close())
    const client = await connectedClient(t, redis.port)
    const app = await startFaultApp({
      store: new RedisStore({ client }),
      storeTimeout: STORE_TIMEOUT_MS,
    })
    t.after(() => app.close())
    const name = 'redis SIGKILL + restart empty (fail-closed)'
    const run = await loadThroughFault(
      t,
      app,
      { name, down: () => redis.kill('SIGKILL'), up: () => redis.start() },
      {
        policy: 'fail-closed',
        storeTimeoutMs: STORE_TIMEOUT_MS,
        after: 'logged-out',
        settleMs: 1000,
      },
    )
    const cleared = run.samples.filter((s) => s.clearedCookie).length
    const replaced = run.users.filter((u, i) => u.cookie !== run.loginCookies[i]).length
    t.diagnostic(
      `[faults] ${name}: cookies cleared ${cleared}, replaced by a new anonymous session ` +
        `${replaced} of ${run.users.length}`,
    )
    // A cookie naming no session is left in place, not cleared (MIGRATING.md: a stale cookie costs
    // one HMAC, and clearing by name could remove a valid cookie planted beside it). The request is
    // anonymous, and the first write replaces the cookie with a new session's.
    const stale = run.loginCookies[0]!
    const unknownBefore = app.events.filter((e) => e.type === 'session.unknown').length
    const read = await send(app.port, { path: '/read', headers: { cookie: stale } })
    assert.equal(read.status, 200)
    assert.equal(JSON.parse(read.body).user, null, 'logged out')
    assert.equal(cookiePair(read, 'sid'), undefined, 'a read leaves the stale cookie alone')
    assert.equal(
      app.events.filter((e) => e.type === 'session.unknown').length,
      unknownBefore + 1,
      'the signed cookie naming no session is reported as session.unknown',
    )
    const write = await send(app.port, {
      method: 'POST',
      path: '/write?k=x',
      headers: { cookie: stale },
    })
    assert.equal(write.status, 200)
    const fresh = cookiePair(write, 'sid')
    assert.ok(fresh !== undefined && fresh !== stale, 'a write replaces it with a new session')

    const user = run.users[0]!.user
    const login = await send(app.port, { method: 'POST', path: `/login?user=${user}` })
    assert.equal(login.status, 200, 'a new login works on the emptied store')
    const cookie = cookiePair(login, 'sid')
    assert.ok(cookie)
    const again = await send(app.port, { path: '/read', headers: { cookie } })
    assert.equal(JSON.parse(again.body).user, user, 'the new session holds')
    assert.deepEqual(app.unexpected, [])
  })

  it('answers 503 within storeTimeout while Redis is slow, and recovers when it is fast again', async (t) => {
    const redis = await startFaultRedis({ persist: false })
    t.after(() => redis.close())
    const proxy = await slowProxy(redis.port)
    t.after(() => proxy.close())
    const client = await connectedClient(t, proxy.port)
    const app = await startFaultApp({
      store: new RedisStore({ client }),
      storeTimeout: STORE_TIMEOUT_MS,
    })
    t.after(() => app.close())
    await loadThroughSlowStore(t, app, proxy, 'redis', STORE_TIMEOUT_MS)
  })
})
