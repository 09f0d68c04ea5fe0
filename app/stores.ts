/**
 * Opens the session store SESSION_STORE names: `sqlite` (a file under DATA_DIR), `memory`,
 * `redis` (REDIS_URL) or `postgres` (DATABASE_URL). The rest of the app is the same for all four.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryStore, type SessionStore } from 'tether-session'
import { SqliteStore } from 'tether-session/stores/sqlite'
import type { StoreKind } from './config.js'

/** A store and how to release it (and the connection opened for it). */
export interface OpenedStore {
  store: SessionStore
  close(): Promise<void>
}

/** Where to find the store. */
export interface StoreLocation {
  dataDir: string
  redisUrl: string
  databaseUrl: string
  /**
   * Keeps apps sharing one Redis or PostgreSQL apart (tests): a Redis key prefix `tether:<ns>:`,
   * a PostgreSQL table `tether_sessions_<ns>`. Lower-case letters, digits and `_`.
   * @default none: `tether:` and `tether_sessions`
   */
  namespace?: string | undefined
  /** Told when the Redis connection is lost (once per outage; requests get 503 meanwhile). */
  onConnectionError?: ((err: Error) => void) | undefined
}

/** Opens the store of `kind`; drivers for Redis and PostgreSQL are loaded only when chosen. */
export async function openStore(kind: StoreKind, at: StoreLocation): Promise<OpenedStore> {
  const ns = at.namespace
  if (ns !== undefined && !/^[a-z0-9_]{1,32}$/.test(ns)) {
    throw new Error(`namespace must be 1-32 of [a-z0-9_]; got ${JSON.stringify(ns)}`)
  }
  switch (kind) {
    case 'sqlite': {
      mkdirSync(at.dataDir, { recursive: true })
      const store = new SqliteStore({ path: join(at.dataDir, 'sessions.db') })
      return { store, close: () => store.close() }
    }
    case 'memory': {
      const store = new MemoryStore()
      return { store, close: () => store.close() }
    }
    case 'redis':
      return openRedis(at)
    case 'postgres':
      return openPostgres(at)
  }
}

/** Retries while starting: a Redis that is not there stops startup with a clear message. */
const STARTUP_RETRIES = 3

async function openRedis(at: StoreLocation): Promise<OpenedStore> {
  const { createClient } = await import('redis')
  const { RedisStore } = await import('tether-session/stores/redis')
  let ready = false
  let down = false
  const client = createClient({
    url: at.redisUrl,
    socket: {
      // Once running, retry for ever (requests get 503 meanwhile); before that, give up soon.
      reconnectStrategy: function retry(retries: number, cause: Error) {
        return !ready && retries >= STARTUP_RETRIES ? cause : Math.min(100 * 2 ** retries, 2000)
      },
    },
  })
  // A listener is required (an unhandled 'error' would end the process); told once per outage.
  client.on('error', function redisError(err: Error) {
    if (!down) at.onConnectionError?.(err)
    down = true
  })
  client.on('ready', function redisReady() {
    ready = true
    down = false
  })
  await client.connect()
  const prefix = at.namespace === undefined ? 'tether:' : `tether:${at.namespace}:`
  const store = new RedisStore({ client, prefix })
  return {
    store,
    async close() {
      await store.close()
      await client.close()
    },
  }
}

async function openPostgres(at: StoreLocation): Promise<OpenedStore> {
  const { default: pg } = await import('pg')
  const { PostgresStore } = await import('tether-session/stores/postgres')
  const pool = new pg.Pool({ connectionString: at.databaseUrl })
  const table = at.namespace === undefined ? 'tether_sessions' : `tether_sessions_${at.namespace}`
  const store = new PostgresStore({ pool, table })
  try {
    await store.migrate()
  } catch (err) {
    await pool.end()
    throw err
  }
  return {
    store,
    async close() {
      await store.close()
      await pool.end()
    },
  }
}
