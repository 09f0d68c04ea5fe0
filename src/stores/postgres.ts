import type { Clock } from '../clock.js'
import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg'
import { invalidOption, sessionLimitReached } from '../errors.js'
import { keyInUse } from './internal.js'
import { encodeText } from './postgres/jsonb.js'
import { toInsertValues, toRecord, toUpdateValues } from './postgres/rows.js'
import type { RecordRow } from './postgres/rows.js'
import { migrateSql, statementNames, statements } from './postgres/sql.js'
import type { Statements } from './postgres/sql.js'
import { resolveOptions } from './postgres/options.js'
import type { PostgresStoreOptions, ResolvedPostgresOptions } from './postgres/options.js'
import type {
  CreateOptions,
  NotBeforeMarks,
  SessionLimitPolicy,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTimes,
  UpdateResult,
  UserSessionEntry,
} from './types.js'

export type { PostgresStoreOptions } from './postgres/options.js'

/**
 * Sessions in PostgreSQL through a `pg` Pool: one table with `jsonb` data, and one statement per
 * operation, so a commit merges only the keys it changed (no lost updates). Creating the table is
 * an explicit `migrate()` unless `autoCreate` is set. Errors from `pg` reject as they are.
 */
export class PostgresStore implements SessionStore, NotBeforeMarks {
  /** Brand of a Tether store. */
  readonly tetherStore = 1
  private readonly pool: Pool
  private readonly clock: Clock
  private readonly options: ResolvedPostgresOptions
  private readonly sql: Statements
  /** Statement text to its prepared-statement name; null runs every statement as plain text. */
  private readonly names: Map<string, string> | null
  private ready: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private pruning = false

  constructor(options: PostgresStoreOptions) {
    this.options = resolveOptions(options)
    this.pool = this.options.pool
    this.clock = this.options.clock
    this.sql = statements(this.options.tableSql, this.options.marksSql)
    this.names = this.options.preparedStatements ? statementNames(this.sql) : null
    const { cleanupIntervalMs } = this.options
    if (cleanupIntervalMs > 0) {
      this.timer = setInterval(this.pruneInBackground.bind(this), cleanupIntervalMs).unref()
    }
  }

  /**
   * Creates the tables (sessions, and `<table>_not_before` for marks) and indexes if missing.
   * Safe to run from many instances at once, and again after an upgrade.
   */
  async migrate(): Promise<void> {
    const { tableSql, userIndexSql, expiryIndexSql, table, marksSql } = this.options
    await this.pool.query(migrateSql(tableSql, userIndexSql, expiryIndexSql, table, marksSql))
  }

  /**
   * Deletes every expired row now and returns how many, unless another instance is pruning the
   * same table (then it returns 0 at once). The cleanup timer calls it too.
   */
  async pruneExpired(): Promise<number> {
    const lockName = `tether-session:prune:${this.options.table}`
    const { rows } = await this.query<{ held: boolean; deleted: number }>(this.sql.prune, [
      this.clock.now(),
      lockName,
    ])
    return rows[0]?.deleted ?? 0
  }

  /** The live record under `key`, or null. */
  async get(key: string): Promise<SessionRecord | null> {
    const { rows } = await this.query<RecordRow>(this.sql.get, [key, this.clock.now()])
    return rows[0] === undefined ? null : toRecord(rows[0])
  }

  /**
   * Inserts `record`, replacing an expired session under `key` and rejecting on a live one. With
   * `maxPerUser` it evicts the user's oldest sessions (or, `onLimit: 'refuse'`, refuses the new
   * one) in the same transaction, under a per-user advisory lock, and returns their keys.
   */
  async create(key: string, record: SessionRecord, options: CreateOptions = {}): Promise<string[]> {
    const { maxPerUser, onLimit } = options
    if (maxPerUser !== undefined && (!Number.isSafeInteger(maxPerUser) || maxPerUser < 1)) {
      throw invalidOption(`"maxPerUser" must be a positive integer; got ${String(maxPerUser)}`)
    }
    const values = toInsertValues(key, record, this.clock.now())
    if (record.userId !== undefined && maxPerUser !== undefined) {
      return this.createCapped(values, maxPerUser, onLimit)
    }
    const { rowCount } = await this.query(this.sql.create, values)
    if (rowCount === 0) throw keyInUse('PostgresStore')
    return []
  }

  /** Merges `patch` into the live record under `key` in one statement (`SessionStore.update`). */
  async update(
    key: string,
    patch: SessionPatch,
    options: { ifVersion?: number } = {},
  ): Promise<UpdateResult> {
    const { rows } = await this.query<{ v: number | null; seen: boolean }>(
      this.sql.update,
      toUpdateValues(key, patch, options.ifVersion ?? null, this.clock.now()),
    )
    const row = rows[0]
    if (row !== undefined && row.v !== null) return { ok: true, v: row.v }
    // Seen live but not written: v differed, or the row went away after this statement began.
    const conflict = row?.seen === true && options.ifVersion !== undefined
    return { ok: false, reason: conflict ? 'conflict' : 'missing' }
  }

  /** Moves the idle expiry of the live record under `key`; false if there is none. */
  async touch(key: string, times: SessionTimes): Promise<boolean> {
    const { lastSeenAt, idleExpiresAt } = times
    const { rowCount } = await this.query(this.sql.touch, [
      key,
      this.clock.now(),
      JSON.stringify({ lastSeenAt, idleExpiresAt }),
      idleExpiresAt,
    ])
    return rowCount !== null && rowCount > 0
  }

  /** Removes the session under `key`, if any. */
  async destroy(key: string): Promise<void> {
    await this.query(this.sql.destroy, [key])
  }

  /** Live sessions of `userId`, oldest first (by createdAt, then insertion). */
  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const { rows } = await this.query<RecordRow & { key: string }>(this.sql.listByUser, [
      encodeText(userId),
      this.clock.now(),
    ])
    return rows.map(function toListed(row) {
      return { key: row.key, record: toRecord(row) }
    })
  }

  /** Removes the sessions of `userId` but `except`; returns the keys of the live ones removed. */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<string[]> {
    const { rows } = await this.query<{ keys: string[] }>(this.sql.destroyByUser, [
      encodeText(userId),
      options.except ?? null,
      this.clock.now(),
    ])
    return rows[0]?.keys ?? []
  }

  /**
   * The live "not before" mark of `scope`, or null. Null too while the marks table is missing (a
   * table migrated before marks existed): no mark can have been set, and sessions keep loading
   * until `migrate()` is run again; `setNotBefore` rejects until then.
   */
  async getNotBefore(scope: string): Promise<number | null> {
    try {
      const values = [encodeText(scope), this.clock.now()]
      const { rows } = await this.query<{ at: string }>(this.sql.getMark, values)
      return rows[0] === undefined ? null : Number(rows[0].at)
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === UNDEFINED_TABLE) return null
      throw err
    }
  }

  /** Sets the "not before" mark of `scope`, never moving a live one backwards. One statement. */
  async setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    await this.query(this.sql.setMark, [encodeText(scope), at, expiresAt, this.clock.now()])
  }

  /** Stops the cleanup timer. The pool stays open: it belongs to the caller. */
  close(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    return Promise.resolve()
  }

  /**
   * The capped-login path. It is the one operation that takes several statements (BEGIN, lock,
   * work, COMMIT on one pooled client): a statement's snapshot is taken before a lock it waits
   * for, so a lock inside a single statement would still count sessions committed meanwhile as
   * absent. Holding `pg_advisory_xact_lock` on (table, user) first serialises the user's capped
   * creates, so 50 simultaneous logins never leave more than `maxPerUser` sessions.
   */
  private async createCapped(
    values: unknown[],
    maxPerUser: number,
    onLimit?: SessionLimitPolicy,
  ): Promise<string[]> {
    if (this.options.autoCreate) await this.ensureTable()
    const client = await this.pool.connect()
    let broken: unknown
    // A checked-out client whose connection drops emits 'error'; unheard, that event would crash
    // the process. The statement in flight rejects with the same error, which is what we report.
    function connectionLost(err: unknown): void {
      broken = err
    }
    client.on('error', connectionLost)
    try {
      await client.query('BEGIN')
      await client.query(this.statement(this.sql.lockUser, [this.options.table, values[1]]))
      if (onLimit === 'refuse') {
        await this.insertIfRoom(client, values, maxPerUser)
        await client.query('COMMIT')
        return []
      }
      const { rows } = await client.query<{ added: number; evicted: string[] }>(
        this.statement(this.sql.createCapped, [...values, maxPerUser]),
      )
      // A live session under the key: undo the evictions too.
      if (rows[0]?.added !== 1) throw keyInUse('PostgresStore')
      await client.query('COMMIT')
      return rows[0].evicted
    } catch (err) {
      broken = (await rollback(client)) ?? broken
      throw err
    } finally {
      // A client whose connection dropped or whose ROLLBACK failed is in an unknown state:
      // release(err) discards it.
      client.off('error', connectionLost)
      client.release(broken as Error | undefined)
    }
  }

  /** Under the user's lock: the insert, or TETHER_SESSION_LIMIT when the user is at the cap. */
  private async insertIfRoom(client: PoolClient, values: unknown[], maxPerUser: number) {
    // A statement after the lock sees every create committed before it.
    const [key, userId, , , , , , now] = values
    const count = await client.query<{ live: number }>(
      this.statement(this.sql.countLive, [key, userId, now]),
    )
    if ((count.rows[0]?.live ?? 0) >= maxPerUser) throw sessionLimitReached(maxPerUser)
    if ((await client.query(this.statement(this.sql.create, values))).rowCount === 0)
      throw keyInUse('PostgresStore')
  }

  /** Runs one statement on the pool, creating the table first when `autoCreate` is set. */
  private async query<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[]) {
    if (this.options.autoCreate) await this.ensureTable()
    return this.pool.query<R>(this.statement(text, values))
  }

  /** One of the store's statements as pg runs it: named (prepared) unless that is turned off. */
  private statement(text: string, values: unknown[]): QueryConfig {
    const name = this.names?.get(text)
    return name === undefined ? { text, values } : { name, text, values }
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.migrate().catch(this.forgetMigration.bind(this))
    return this.ready
  }

  private forgetMigration(err: unknown): never {
    // Forget the failure, so the next operation tries again.
    this.ready = undefined
    throw err
  }

  private pruneInBackground(): void {
    // Skip a tick while the previous prune still runs, rather than stacking DELETEs.
    if (this.pruning) return
    this.pruning = true
    void this.pruneExpired().catch(warnPruneFailed).finally(this.prunedInBackground.bind(this))
  }

  private prunedInBackground(): void {
    this.pruning = false
  }
}

/** PostgreSQL's SQLSTATE for a missing table. */
const UNDEFINED_TABLE = '42P01'

/** A rejection from a timer would crash the process; report it and retry at the next tick. */
function warnPruneFailed(err: unknown): void {
  process.emitWarning(`PostgresStore could not prune expired sessions: ${String(err)}`, {
    type: 'TetherWarning',
    code: 'TETHER_STORE_UNAVAILABLE',
  })
}

/** Rolls back; resolves to the error if that failed too, so the client is discarded. */
async function rollback(client: PoolClient): Promise<unknown> {
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (err) {
    return err
  }
}
