import { systemClock, type Clock } from '../../clock.js'
import { createHash } from 'node:crypto'
import { show } from '../internal.js'
import type { Pool } from 'pg'
import { invalidOption } from '../../errors.js'

/** Options of `PostgresStore`. */
export interface PostgresStoreOptions {
  /** A `pg` Pool. The store borrows connections from it and never ends it. */
  pool: Pool
  /**
   * Table holding the sessions: a lowercase letter or `_`, then up to 62 of `[a-z0-9_]`, optionally
   * prefixed by a schema name of the same form (`auth.sessions`). "Not before" marks go in
   * `<table>_not_before`, in the same schema.
   * @default 'tether_sessions'
   */
  table?: string
  /**
   * Decides which sessions are live; tests pass one they can advance.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Runs `migrate()` before the first operation. Off by default so that schema
   * changes stay an explicit deployment step.
   * @default false
   */
  autoCreate?: boolean
  /**
   * How often expired rows are deleted, in ms; 0 disables the timer (call `pruneExpired()` from a
   * job instead). The timer is unref'd, and only one instance prunes at a time.
   * @default 300_000
   */
  cleanupIntervalMs?: number
  /**
   * Runs the store's statements as named prepared statements: PostgreSQL parses and plans each
   * once per connection instead of on every call (about twice the updates per second here). Set
   * false behind a pooler that does not keep prepared statements across transactions (PgBouncer
   * before 1.21 in transaction mode, or without `max_prepared_statements`).
   * @default true
   */
  preparedStatements?: boolean
}

/** Options checked once, with SQL-ready names. */
export interface ResolvedPostgresOptions {
  pool: Pool
  clock: Clock
  autoCreate: boolean
  cleanupIntervalMs: number
  preparedStatements: boolean
  /** Table name as given, e.g. `auth.sessions`. */
  table: string
  /** Quoted, possibly schema-qualified table name for SQL text. */
  tableSql: string
  /** Quoted, possibly schema-qualified name of the table of "not before" marks. */
  marksSql: string
  /** Quoted index names (unqualified: an index lives in its table's schema). */
  userIndexSql: string
  expiryIndexSql: string
}

// Identifiers cannot be bound as parameters, so each part is checked before it reaches SQL. 63
// bytes is PostgreSQL's identifier limit (NAMEDATALEN - 1).
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/
// setInterval turns larger delays into 1 ms (TimeoutOverflowWarning).
const MAX_TIMER_MS = 2 ** 31 - 1

/** Checks every option once, at construction, and fills in the defaults. */
export function resolveOptions(options: PostgresStoreOptions): ResolvedPostgresOptions {
  const { pool, table = 'tether_sessions', clock = systemClock } = options
  const { autoCreate = false, cleanupIntervalMs = 300_000, preparedStatements = true } = options
  if (!isPool(pool)) {
    throw invalidOption(`"pool" must be a pg Pool (new pg.Pool(...)); got ${show(pool)}`)
  }
  const parts = typeof table === 'string' ? table.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every(isIdentifier)) {
    throw invalidOption(
      `"table" must be a lowercase letter or "_" followed by up to 62 of [a-z0-9_], ` +
        `optionally after a schema name of the same form and a "."; got ${show(table)}`,
    )
  }
  if (typeof autoCreate !== 'boolean') {
    throw invalidOption(`"autoCreate" must be true or false; got ${show(autoCreate)}`)
  }
  if (
    !Number.isSafeInteger(cleanupIntervalMs) ||
    cleanupIntervalMs < 0 ||
    cleanupIntervalMs > MAX_TIMER_MS
  ) {
    throw invalidOption(
      `"cleanupIntervalMs" must be a whole number of ms from 0 (off) to ${MAX_TIMER_MS}; ` +
        `got ${show(cleanupIntervalMs)}. Omit it for 300000 (5 minutes).`,
    )
  }
  if (typeof preparedStatements !== 'boolean') {
    throw invalidOption(
      `"preparedStatements" must be true or false; got ${show(preparedStatements)}`,
    )
  }
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw invalidOption(`"clock" must be an object with a now() method; got ${show(clock)}`)
  }
  const name = parts[parts.length - 1] as string
  return {
    pool,
    clock,
    autoCreate,
    cleanupIntervalMs,
    preparedStatements,
    table,
    tableSql: parts.map(quote).join('.'),
    marksSql: [...parts.slice(0, -1), indexName(name, '_not_before')].map(quote).join('.'),
    userIndexSql: quote(indexName(name, '_user_id')),
    expiryIndexSql: quote(indexName(name, '_expires_at')),
  }
}

/**
 * `<table><suffix>`, shortened with a hash of the table name when it would pass 63 bytes:
 * PostgreSQL would truncate both index names to the same prefix, and `IF NOT EXISTS` would then
 * silently skip the second index.
 */
function indexName(table: string, suffix: string): string {
  if (table.length + suffix.length <= 63) return table + suffix
  const hash = createHash('sha256').update(table).digest('hex').slice(0, 8)
  return `${table.slice(0, 63 - suffix.length - 9)}_${hash}${suffix}`
}

function isIdentifier(part: string): boolean {
  return IDENTIFIER.test(part)
}

function quote(identifier: string): string {
  return `"${identifier}"`
}

function isPool(value: unknown): value is Pool {
  if (typeof value !== 'object' || value === null) return false
  const { query, connect } = value as Partial<Pool>
  return typeof query === 'function' && typeof connect === 'function'
}
