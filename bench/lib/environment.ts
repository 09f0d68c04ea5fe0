/**
 * What scenario servers share during a run: the private Redis, the run's PostgreSQL table prefix,
 * a temp dir for SQLite, one secret. `close()` stops Redis by pid, drops the tables and removes
 * the temp dir. Scenarios whose service is missing come back in `skipped` with the reason.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { hasCommand } from './machine.js'
import { startRedis, type BenchRedis } from './redis.js'
import type { Scenario } from './scenarios.js'
import { pgTable } from '../server/stores.js'

export interface Environment {
  env: Record<string, string>
  redis: BenchRedis | null
  runnable: Scenario[]
  skipped: Array<{ scenario: string; reason: string }>
  close(): Promise<void>
}

async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (err) {
    return `PostgreSQL not reachable at DATABASE_URL (${String(err)})`
  } finally {
    await client.end().catch(() => {})
  }
}

/** Drops the run's PostgreSQL tables (the store's and its "not before" marks). */
async function dropTables(url: string, prefix: string): Promise<void> {
  const table = pgTable(prefix)
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
  } finally {
    await client.end().catch(() => {})
  }
}

export async function openEnvironment(
  scenarios: Scenario[],
  databaseUrl: string,
  log: (line: string) => void,
): Promise<Environment> {
  const skipped: Environment['skipped'] = []
  const drop = (store: Scenario['store'], reason: string) => {
    for (const s of runnable.filter((s) => s.store === store)) {
      skipped.push({ scenario: s.name, reason })
    }
    runnable = runnable.filter((s) => s.store !== store)
  }
  let runnable = scenarios
  if (runnable.some((s) => s.store === 'redis') && !hasCommand('redis-server')) {
    drop('redis', 'redis-server is not installed')
  }
  const usesPostgres = runnable.some((s) => s.store === 'postgres')
  const pgProblem = usesPostgres ? await postgresProblem(databaseUrl) : null
  if (pgProblem !== null) drop('postgres', pgProblem)
  const prefix = `bench_${randomBytes(4).toString('hex')}_`
  const sqliteDir = mkdtempSync(join(tmpdir(), 'tether-bench-'))
  const redis = runnable.some((s) => s.store === 'redis') ? await startRedis() : null
  return {
    env: {
      BENCH_REDIS_URL: redis?.url ?? 'redis://127.0.0.1:1',
      BENCH_DATABASE_URL: databaseUrl,
      BENCH_PREFIX: prefix,
      BENCH_SQLITE_DIR: sqliteDir,
      BENCH_SECRET: randomBytes(32).toString('base64url'),
    },
    redis,
    runnable,
    skipped,
    async close() {
      await redis?.stop()
      rmSync(sqliteDir, { recursive: true, force: true })
      if (usesPostgres && pgProblem === null) {
        await dropTables(databaseUrl, prefix).catch((err: unknown) => {
          log(`could not drop the run's PostgreSQL tables: ${String(err)}`)
        })
      }
    },
  }
}
