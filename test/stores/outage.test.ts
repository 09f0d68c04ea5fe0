/**
 * Store down and back, for the networked stores: the client reaches Redis or PostgreSQL through a
 * loopback proxy the test cuts and restores, so the shared servers keep running (and keep the data).
 * While cut, the manager answers TETHER_STORE_UNAVAILABLE within storeTimeout; once restored, the
 * same session loads again with no restart.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import { createClient } from 'redis'
import { createSessionManager } from '../../src/core/manager.js'
import type { SessionManager } from '../../src/core/manager-types.js'
import { PostgresStore } from '../../src/stores/postgres.js'
import { RedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/types.js'
import { DATABASE_URL, REDIS_URL, skipUnlessReachable } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { tcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const redisSkip = await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL')
const pgSkip = await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL')

async function downAndBack(proxy: TcpProxy, store: SessionStore): Promise<void> {
  const manager: SessionManager = createSessionManager({
    secret: randomBytes(32),
    store,
    storeTimeout: 300,
  })
  const session = manager.create({})
  await manager.commit(session, {}, { data: { kept: true } })
  const token = manager.token(session)
  assert.ok((await manager.load({ token })).session)

  await proxy.down()
  const started = Date.now()
  await assert.rejects(manager.load({ token }), { code: 'TETHER_STORE_UNAVAILABLE' })
  assert.ok(Date.now() - started < 2000, 'bounded by storeTimeout, not hanging')
  assert.deepEqual(
    await manager.load({}),
    { session: null, rejected: 'none' },
    'no cookie: no store I/O',
  )

  await proxy.up()
  await waitFor('the store to come back', async () =>
    manager.load({ token }).then(
      (loaded) => loaded.session !== null,
      () => false,
    ),
  )
  const back = await manager.load({ token })
  assert.equal(back.session?.record.data['kept'], true, 'the same session, no restart')
}

describe('store down and back', () => {
  it('Redis', { skip: redisSkip }, async (t: TestContext) => {
    const { hostname, port } = new URL(REDIS_URL)
    const proxy = await tcpProxy(hostname, Number(port || 6379))
    t.after(() => proxy.close())
    const client = createClient({
      url: `redis://127.0.0.1:${proxy.port}`,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 50 },
    })
    client.on('error', () => {}) // expected while the proxy is cut
    await client.connect()
    t.after(() => client.destroy())
    await downAndBack(
      proxy,
      new RedisStore({ client, prefix: `outage:${randomBytes(4).toString('hex')}:` }),
    )
  })

  it('PostgreSQL', { skip: pgSkip }, async (t: TestContext) => {
    const url = new URL(DATABASE_URL)
    const proxy = await tcpProxy(url.hostname, Number(url.port || 5432))
    t.after(() => proxy.close())
    url.host = `127.0.0.1:${proxy.port}`
    const pool = new pg.Pool({ connectionString: url.toString(), connectionTimeoutMillis: 200 })
    pool.on('error', () => {}) // idle clients cut by the proxy
    const table = `tether_outage_${randomBytes(4).toString('hex')}`
    const store = new PostgresStore({ pool, table, autoCreate: true, cleanupIntervalMs: 0 })
    t.after(async () => {
      await store.close()
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`).catch(() => {})
      await pool.end()
    })
    await downAndBack(proxy, store)
  })
})
