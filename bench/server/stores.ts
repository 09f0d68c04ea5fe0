/**
 * The stores a scenario server opens: the harness's private Redis (node-redis), PostgreSQL with
 * the run's own table (every statement the Pool's clients issue is counted), SQLite in the run's
 * temp dir. Each comes with its `close()`.
 */
import net from 'node:net'
import { join } from 'node:path'
import type { createClient } from 'redis'
import type { StoreKind } from '../lib/scenarios.js'

export interface ServerEnv {
  redisUrl: string
  databaseUrl: string
  /** Unique per run: Redis key prefix, and (with `_` for `:`) the PostgreSQL table prefix. */
  prefix: string
  sqliteDir: string
  secret: string
}

export function readEnv(): ServerEnv {
  const need = (name: string) => {
    const value = process.env[name]
    if (value === undefined || value === '') throw new Error(`${name} is not set`)
    return value
  }
  return {
    redisUrl: need('BENCH_REDIS_URL'),
    databaseUrl: need('BENCH_DATABASE_URL'),
    prefix: need('BENCH_PREFIX'),
    sqliteDir: need('BENCH_SQLITE_DIR'),
    secret: need('BENCH_SECRET'),
  }
}

/** SQL statements sent by this process's `pg` clients (Pool.query goes through Client.query). */
export const sqlCounter = { statements: 0 }

async function countStatements(): Promise<typeof import('pg').default> {
  const { default: pg } = await import('pg')
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const query = proto.query
  proto.query = function countedQuery(this: unknown, ...args: unknown[]) {
    sqlCounter.statements++
    return query.apply(this, args)
  }
  return pg
}

/** The PostgreSQL table of a run (see `prefix`). */
export function pgTable(prefix: string): string {
  return `${prefix.replace(/[^a-z0-9]/g, '_')}sessions`
}

export type RedisClient = ReturnType<typeof createClient>

/**
 * Batches written to Redis: node-redis corks its socket, writes every queued command, uncorks.
 * One batch waits for its answers, so batches per request approximate round trips (two batches
 * sent side by side in one request count twice, though they cost one wait).
 */
export const redisCounter = { batches: 0 }

function countBatches(socket: net.Socket): void {
  const cork = socket.cork.bind(socket)
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean
  socket.cork = function countedCork() {
    if (socket.writableCorked === 0) redisCounter.batches++
    cork()
  }
  socket.write = function countedWrite(...args: unknown[]) {
    if (socket.writableCorked === 0) redisCounter.batches++
    return write(...args)
  }
}

let patched = false

/** Counts the batches of every connection this process opens with `net.createConnection`. */
function countRedisBatches(): void {
  if (patched) return
  patched = true
  const create = net.createConnection.bind(net) as (...args: unknown[]) => net.Socket
  net.createConnection = function countedConnection(...args: unknown[]) {
    const socket = create(...args)
    countBatches(socket)
    return socket
  }
}

export async function openRedis(url: string): Promise<RedisClient> {
  countRedisBatches()
  const { createClient } = await import('redis')
  const client = createClient({ url })
  client.on('error', () => {})
  await client.connect()
  redisCounter.batches = 0
  return client
}

export interface OpenStore {
  store: unknown
  close: () => Promise<void>
}

/** A Tether store of `kind`. */
export async function tetherStore(kind: StoreKind, env: ServerEnv): Promise<OpenStore> {
  switch (kind) {
    case 'memory': {
      const { MemoryStore } = await import('tether-session')
      const store = new MemoryStore({ maxEntries: 100_000 })
      return { store, close: () => store.close() }
    }
    case 'sqlite': {
      const { SqliteStore } = await import('tether-session/stores/sqlite')
      const store = new SqliteStore({ path: join(env.sqliteDir, 'sessions.db') })
      return { store, close: () => store.close() }
    }
    case 'redis': {
      const client = await openRedis(env.redisUrl)
      const { RedisStore } = await import('tether-session/stores/redis')
      const store = new RedisStore({ client, prefix: `${env.prefix}t:` })
      return { store, close: async () => void (await client.quit()) }
    }
    case 'postgres': {
      const pg = await countStatements()
      const { PostgresStore } = await import('tether-session/stores/postgres')
      const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 })
      const store = new PostgresStore({ pool, table: pgTable(env.prefix) })
      await store.migrate()
      sqlCounter.statements = 0
      return {
        store,
        close: async () => {
          await store.close()
          await pool.end()
        },
      }
    }
    case 'cookie':
      return { store: 'sealed', close: async () => {} }
    case 'none':
      return { store: undefined, close: async () => {} }
  }
}
