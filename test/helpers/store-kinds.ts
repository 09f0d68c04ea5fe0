/**
 * Opens a fresh store of each kind for the reliability tests: MemoryStore, SQLite in a temp dir,
 * Redis under a random key prefix, PostgreSQL in a random table. `close()` releases it and removes
 * whatever it wrote. Redis and PostgreSQL skip with a reason when unreachable (see services.ts).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/types.js'
import { DATABASE_URL, REDIS_URL, skipUnlessReachable } from './services.js'

export type StoreKind = 'memory' | 'sqlite' | 'redis' | 'postgres'
export const STORE_KINDS: readonly StoreKind[] = ['memory', 'sqlite', 'redis', 'postgres']

export interface OpenedStore {
  store: SessionStore
  close(): Promise<void>
}

/** False, or the one-line reason a kind's tests skip (throws under TETHER_REQUIRE_SERVICES=1). */
export async function storeKindSkips(): Promise<Record<StoreKind, string | false>> {
  return {
    memory: false,
    sqlite: false,
    redis: await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL'),
    postgres: await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL'),
  }
}

export async function openStoreKind(kind: StoreKind): Promise<OpenedStore> {
  const tag = randomBytes(5).toString('hex')
  switch (kind) {
    case 'memory': {
      const store = new MemoryStore()
      return { store, close: () => store.close() }
    }
    case 'sqlite': {
      const { SqliteStore } = await import('../../src/stores/sqlite.js')
      const dir = mkdtempSync(join(tmpdir(), 'tether-rel-'))
      const store = new SqliteStore({ path: join(dir, 'sessions.db') })
      return {
        store,
        async close() {
          await store.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    case 'redis': {
      const { createClient } = await import('redis')
      const { RedisStore } = await import('../../src/stores/redis.js')
      const client = createClient({ url: REDIS_URL })
      await client.connect()
      const prefix = `tether-test:rel${tag}:`
      const store = new RedisStore({ client, prefix })
      return {
        store,
        async close() {
          await store.close()
          for await (const keys of client.scanIterator({ MATCH: prefix + '*', COUNT: 500 })) {
            if (keys.length > 0) await client.del(keys)
          }
          await client.close()
        },
      }
    }
    case 'postgres': {
      const { default: pg } = await import('pg')
      const { PostgresStore } = await import('../../src/stores/postgres.js')
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
      const table = `tether_test_rel${tag}`
      const store = new PostgresStore({ pool, table, cleanupIntervalMs: 0 })
      await store.migrate()
      return {
        store,
        async close() {
          await store.close()
          await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
          await pool.end()
        },
      }
    }
  }
}
