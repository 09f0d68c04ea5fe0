/**
 * Sealed sessions revoked through a shared revocation store on Redis (REDIS_URL) and PostgreSQL
 * (DATABASE_URL): two managers stand for two processes, sharing only the secret and the store.
 * Each suite skips with a one-line reason when its server is unreachable, and fails instead under
 * TETHER_REQUIRE_SERVICES=1. Keys and tables are random per test and removed afterwards.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import { createClient } from 'redis'
import { createSessionManager } from '../../src/core/manager.js'
import { PostgresStore } from '../../src/stores/postgres.js'
import { RedisStore } from '../../src/stores/redis.js'
import type { SessionStore } from '../../src/stores/types.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { loadedData, newSecret, sealedLogin } from '../helpers/sealed.js'
import { DATABASE_URL, REDIS_URL, skipUnlessReachable } from '../helpers/services.js'

const redisSkip = await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL')
const pgSkip = await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL')

const redis = redisSkip === false ? createClient({ url: REDIS_URL }) : undefined
await redis?.connect()
let pool: pg.Pool | undefined
after(async function closeClients() {
  await redis?.close()
  await pool?.end()
})

type Open = (t: TestContext, clock: ManualClock) => Promise<SessionStore>

const openRedis: Open = (t, clock) => {
  const prefix = `tether-test:${randomBytes(6).toString('hex')}:`
  t.after(async () => {
    const keys = await redis!.keys(`${prefix}*`)
    if (keys.length > 0) await redis!.del(keys)
  })
  return Promise.resolve(new RedisStore({ client: redis!, prefix, clock }))
}

const openPostgres: Open = async (t, clock) => {
  pool ??= new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
  const table = `tether_test_${randomBytes(6).toString('hex')}`
  const store = new PostgresStore({ pool, table, clock, cleanupIntervalMs: 0 })
  await store.migrate()
  t.after(async () => {
    await store.close()
    await pool!.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
  })
  return store
}

const suites: Array<[string, Open, string | false]> = [
  ['RedisStore', openRedis, redisSkip],
  ['PostgresStore', openPostgres, pgSkip],
]

for (const [name, open, skip] of suites) {
  describe(`sealed sessions revoked through a shared ${name}`, { skip }, () => {
    async function twoProcesses(t: TestContext) {
      const clock = manualClock(Date.now())
      const revocationStore = await open(t, clock)
      const options = {
        secret: newSecret(),
        store: 'sealed' as const,
        revocationStore,
        clock,
        revocationCheckInterval: '5s',
      }
      return { clock, a: createSessionManager(options), b: createSessionManager(options) }
    }

    it('ends every session of a user in the other process once its cache is older than the interval', async (t) => {
      const { clock, a, b } = await twoProcesses(t)
      const alice = await sealedLogin(a, 'alice')
      const bob = await sealedLogin(a, 'bob')
      assert.ok(await loadedData(b, alice.token))
      clock.advance(1)
      await a.revokeUserSessions('alice')
      assert.equal(await loadedData(a, alice.token), null)
      clock.advance(5000)
      assert.equal(await loadedData(b, alice.token), null)
      assert.ok(await loadedData(b, bob.token))
    })

    it('ends a logged-out session and every copy of its token in the other process', async (t) => {
      const { clock, a, b } = await twoProcesses(t)
      const { token } = await sealedLogin(a, 'alice')
      const loaded = (await a.load({ token })).session!
      await a.logout(loaded, {})
      clock.advance(5000)
      assert.equal(await loadedData(b, token), null)
    })

    it('ends every session created before revokeAllSessions() in the other process', async (t) => {
      const { clock, a, b } = await twoProcesses(t)
      const { token } = await sealedLogin(a, 'alice')
      clock.advance(1)
      await b.revokeAllSessions()
      clock.advance(5000)
      assert.equal((await a.load({ token })).rejected, 'revoked')
    })
  })
}
