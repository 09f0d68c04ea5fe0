/**
 * Picks the session store from SESSION_STORE: `sqlite` (default, a file under DATA_DIR), `memory`,
 * `redis` (REDIS_URL) or `postgres` (DATABASE_URL). The app code is the same for all four.
 */
import { join } from 'node:path'
import { MemoryStore, type SessionStore } from 'tether-session'
import { SqliteStore } from 'tether-session/stores/sqlite'

export type StoreKind = 'sqlite' | 'memory' | 'redis' | 'postgres'

export interface OpenedStore {
  store: SessionStore
  /** Closes the store and the connection opened for it. */
  close(): Promise<void>
}

export function storeKind(value: string | undefined): StoreKind {
  const kind = value === undefined || value === '' ? 'sqlite' : value
  if (kind === 'sqlite' || kind === 'memory' || kind === 'redis' || kind === 'postgres') return kind
  throw new Error(
    `SESSION_STORE must be sqlite, memory, redis or postgres; got ${JSON.stringify(value)}`,
  )
}

export async function openStore(
  kind: StoreKind,
  env: { dataDir: string; redisUrl?: string | undefined; databaseUrl?: string | undefined },
): Promise<OpenedStore> {
  switch (kind) {
    case 'sqlite': {
      const store = new SqliteStore({ path: join(env.dataDir, 'sessions.db') })
      return { store, close: () => store.close() }
    }
    case 'memory': {
      const store = new MemoryStore()
      return { store, close: () => store.close() }
    }
    case 'redis': {
      const { createClient } = await import('redis')
      const { RedisStore } = await import('tether-session/stores/redis')
      const client = createClient({ url: env.redisUrl ?? 'redis://127.0.0.1:6379' })
      await client.connect()
      const store = new RedisStore({ client })
      return {
        store,
        close: async () => {
          await store.close()
          await client.quit()
        },
      }
    }
    case 'postgres': {
      const { default: pg } = await import('pg')
      const { PostgresStore } = await import('tether-session/stores/postgres')
      const pool = new pg.Pool({
        connectionString: env.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test',
      })
      const store = new PostgresStore({ pool })
      await store.migrate()
      return {
        store,
        close: async () => {
          await store.close()
          await pool.end()
        },
      }
    }
  }
}
