import { systemClock, type Clock } from '../clock.js'
import Database from 'better-sqlite3'
import { keyInUse, settle, show } from './internal.js'
import { WriteBatch } from './sqlite-batch.js'
import { invalidOption, sessionLimitReached } from '../errors.js'
import { applyPatch, expiresAt } from './types.js'
import type {
  CreateOptions,
  SessionChange,
  NotBeforeMarks,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTimes,
  UpdateResult,
  UserSessionEntry,
} from './types.js'

/** Options of {@link SqliteStore}. Give exactly one of `db` and `path`. */
export interface SqliteStoreOptions {
  /** An open better-sqlite3 database. The store never closes it. */
  db?: Database.Database
  /** A database file the store opens (in WAL mode) and closes on `close()`. */
  path?: string
  /**
   * Table holding the sessions, created if missing: a letter or `_`, then up to 62 of `[A-Za-z0-9_]`.
   * "Not before" marks go in `<table>_not_before`.
   * @default 'tether_sessions'
   */
  table?: string
  /**
   * How often expired rows are deleted, in ms. The timer is unref'd.
   * @default 300_000
   */
  cleanupIntervalMs?: number
  /**
   * Decides which sessions are live; tests pass one they can advance.
   * @default systemClock
   */
  clock?: Clock
}

/** A row as written: `expires_at` is `expiresAt(record)`, so liveness and pruning stay in SQL. */
interface Row {
  key: string
  userId: string | null
  v: number
  createdAt: number
  expiresAt: number
  record: string
}

// Identifiers cannot be bound as parameters, so the name is checked before it reaches SQL. 63
// characters is PostgreSQL's limit, which keeps one name valid for every Tether store.
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
// setInterval turns larger delays into 1 ms (TimeoutOverflowWarning).
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Sessions in SQLite through better-sqlite3: one table and prepared statements. Reads run
 * synchronously and return settled promises. Writes asked for in one turn of the event loop are
 * committed together, in one IMMEDIATE transaction (sqlite-batch.ts), each read-modify-write in a
 * savepoint of its own; a write's promise settles once that commit is done.
 */
export class SqliteStore implements SessionStore, NotBeforeMarks {
  /** Brand of a Tether store. */
  readonly tetherStore = 1
  private readonly db: Database.Database
  private readonly ownsDb: boolean
  private readonly clock: Clock
  private readonly sql: Statements
  private readonly tx: Transactions
  private readonly batch: WriteBatch
  private timer: NodeJS.Timeout | undefined

  constructor(options: SqliteStoreOptions) {
    const { db, path, table, cleanupIntervalMs, clock } = resolveOptions(options)
    this.clock = clock
    this.ownsDb = db === undefined
    this.db = db ?? new Database(path)
    try {
      if (this.ownsDb) useWal(this.db)
      createTable(this.db, table)
      this.sql = prepareStatements(this.db, table)
    } catch (err) {
      // Rethrown: only the file handle this constructor opened is released on the way out.
      if (this.ownsDb) this.db.close()
      throw err
    }
    this.tx = prepareTransactions(this.db, this.sql)
    this.batch = new WriteBatch(this.db)
    this.timer = setInterval(this.pruneInBackground.bind(this), cleanupIntervalMs).unref()
  }

  /** Deletes every expired row now; returns how many. The cleanup timer calls it too. */
  pruneExpired(): number {
    return this.sql.prune.run(this.clock.now()).changes
  }

  /** The live record under `key`, or null. */
  get(key: string): Promise<SessionRecord | null> {
    return settle(function get(this: SqliteStore) {
      const row = this.sql.get.get({ key, now: this.clock.now() })
      return row === undefined ? null : parse(row.record)
    }, this)
  }

  /**
   * Inserts `record`, evicting the user's oldest sessions beyond `maxPerUser` (or refusing) in one
   * transaction.
   */
  create(key: string, record: SessionRecord, options: CreateOptions = {}): Promise<string[]> {
    const { maxPerUser } = options
    if (maxPerUser !== undefined && (!Number.isSafeInteger(maxPerUser) || maxPerUser < 1)) {
      return Promise.reject(
        invalidOption(`"maxPerUser" must be a positive integer; got ${show(maxPerUser)}`),
      )
    }
    const refuse = options.onLimit === 'refuse'
    const now = this.clock.now()
    return new Promise<string[]>((resolve) => {
      // Serialized now (a throw rejects): what the caller changes after this call is not written.
      const row = toRow(key, record)
      // A savepoint inside the batch: a refused create leaves the batch's other writes alone.
      resolve(this.batch.add(() => this.tx.create(row, now, maxPerUser, refuse)))
    })
  }

  /** Merges `patch` into the live record under `key`; see {@link SessionStore.update}. */
  update(
    key: string,
    patch: SessionPatch,
    options: { ifVersion?: number } = {},
  ): Promise<UpdateResult> {
    const now = this.clock.now()
    const { ifVersion } = options
    return new Promise<UpdateResult>((resolve) => {
      // Serialized now (a throw rejects): what the caller changes after this call is not written.
      const next = toRow(key, patch.next)
      const change = frozenChange(patch)
      const write = (): UpdateResult => {
        // Unchanged since the request loaded it (still at next.v - 1): the merge would give
        // `next` itself, so one conditional UPDATE writes it, with no read and no parse.
        const loaded = next.v - 1
        if (ifVersion === undefined || ifVersion === loaded) {
          const statement = 'userId' in change.fields ? this.sql.writeIfUserAt : this.sql.writeIfAt
          if (statement.run({ ...next, loaded, now }).changes === 1) return { ok: true, v: next.v }
        }
        return this.tx.update(key, change, ifVersion, now)
      }
      resolve(this.batch.add(write))
    })
  }

  /** Moves the idle expiry of the live record under `key`; false if there is none. */
  touch(key: string, times: SessionTimes): Promise<boolean> {
    const now = this.clock.now()
    return this.batch.add(() => this.tx.touch(key, times, now))
  }

  /** Removes the session under `key`, if any. */
  destroy(key: string): Promise<void> {
    return this.batch.add(() => void this.sql.destroy.run(key))
  }

  /** Live sessions of `userId`, oldest first. */
  listByUser(userId: string): Promise<UserSessionEntry[]> {
    return settle(function listByUser(this: SqliteStore) {
      const rows = this.sql.listByUser.all({ userId, now: this.clock.now() })
      return rows.map(function toListed(row) {
        return { key: row.key, record: parse(row.record) }
      })
    }, this)
  }

  /** Removes the sessions of `userId` but `except`; returns the keys of the live ones removed. */
  destroyByUser(userId: string, options: { except?: string } = {}): Promise<string[]> {
    const now = this.clock.now()
    return this.batch.add(() => {
      const removed: string[] = []
      for (const row of this.sql.destroyByUser.all({ userId, except: options.except ?? null })) {
        if (now < row.expires_at) removed.push(row.key)
      }
      return removed
    })
  }

  /** The live "not before" mark of `scope`, or null. */
  getNotBefore(scope: string): Promise<number | null> {
    return settle(function getNotBefore(this: SqliteStore) {
      return this.sql.getMark.get({ scope, now: this.clock.now() })?.at ?? null
    }, this)
  }

  /** Sets the "not before" mark of `scope`, never moving a live one backwards. One statement. */
  setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    const now = this.clock.now()
    return this.batch.add(() => void this.sql.setMark.run({ scope, at, expiresAt, now }))
  }

  /** Stops the cleanup timer and closes the database if the store opened it. */
  close(): Promise<void> {
    // Writes already asked for are committed, not dropped.
    if (this.db.open) this.batch.flush()
    clearInterval(this.timer)
    this.timer = undefined
    if (this.ownsDb && this.db.open) this.db.close()
    return Promise.resolve()
  }

  private pruneInBackground(): void {
    // A throw from a timer would crash the process; report it and retry at the next tick.
    try {
      this.pruneExpired()
    } catch (err) {
      process.emitWarning(`SqliteStore could not prune expired sessions: ${String(err)}`, {
        type: 'TetherWarning',
        code: 'TETHER_STORE_UNAVAILABLE',
      })
    }
  }
}

/** Checks every option once, at construction, and fills in the defaults. */
function resolveOptions(options: SqliteStoreOptions) {
  const { db, path, table = 'tether_sessions', cleanupIntervalMs = 300_000 } = options
  const { clock = systemClock } = options
  if ((db === undefined) === (path === undefined)) {
    throw invalidOption(
      `Give exactly one of "db" (an open better-sqlite3 Database) and "path" (a file name); ` +
        `got ${db === undefined ? 'neither' : 'both'}`,
    )
  }
  if (db !== undefined && typeof (db as Partial<Database.Database>).prepare !== 'function') {
    throw invalidOption(`"db" must be a better-sqlite3 Database; got ${show(db)}`)
  }
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw invalidOption(`"path" must be a non-empty file name; got ${show(path)}`)
  }
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw invalidOption(
      `"table" must be a letter or "_" followed by up to 62 letters, digits or "_"; got ${show(table)}`,
    )
  }
  if (
    !Number.isSafeInteger(cleanupIntervalMs) ||
    cleanupIntervalMs < 1 ||
    cleanupIntervalMs > MAX_TIMER_MS
  ) {
    throw invalidOption(
      `"cleanupIntervalMs" must be a whole number of ms from 1 to ${MAX_TIMER_MS}; ` +
        `got ${show(cleanupIntervalMs)}. Omit it for 300000 (5 minutes).`,
    )
  }
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw invalidOption(`"clock" must be an object with a now() method; got ${show(clock)}`)
  }
  return { db, path, table, cleanupIntervalMs, clock }
}

type Statements = ReturnType<typeof prepareStatements>
type Transactions = ReturnType<typeof prepareTransactions>

function prepareTransactions(db: Database.Database, sql: Statements) {
  return {
    create: db.transaction(createInTx.bind(null, sql)),
    update: db.transaction(updateInTx.bind(null, sql)),
    touch: db.transaction(touchInTx.bind(null, sql)),
  }
}

function createInTx(
  sql: Statements,
  row: Row,
  now: number,
  maxPerUser: number | undefined,
  refuse: boolean,
): string[] {
  sql.dropExpired.run({ key: row.key, now })
  // Before any eviction: under a cap, the live session on this key could be the one evicted.
  if (sql.get.get({ key: row.key, now }) !== undefined) throw keyInUse('SqliteStore')
  const evicted: string[] = []
  if (row.userId !== null && maxPerUser !== undefined) {
    const others = sql.keysByUser.all({ userId: row.userId, now })
    // Inside the write transaction, so concurrent logins are counted one after the other.
    if (refuse && others.length >= maxPerUser) throw sessionLimitReached(maxPerUser)
    for (const { key } of others.slice(0, Math.max(0, others.length - (maxPerUser - 1)))) {
      sql.destroy.run(key)
      evicted.push(key)
    }
  }
  sql.insert.run(row)
  return evicted
}

function updateInTx(
  sql: Statements,
  key: string,
  patch: SessionChange,
  ifVersion: number | undefined,
  now: number,
): UpdateResult {
  const row = sql.get.get({ key, now })
  if (row === undefined) return { ok: false, reason: 'missing' }
  if (ifVersion !== undefined && row.v !== ifVersion) return { ok: false, reason: 'conflict' }
  const next = toRow(key, applyPatch(parse(row.record), patch))
  ;('userId' in patch.fields ? sql.writeUser : sql.write).run(next)
  return { ok: true, v: next.v }
}

function touchInTx(sql: Statements, key: string, times: SessionTimes, now: number): boolean {
  const row = sql.get.get({ key, now })
  if (row === undefined) return false
  const record = parse(row.record)
  record.lastSeenAt = times.lastSeenAt
  record.idleExpiresAt = times.idleExpiresAt
  sql.write.run(toRow(key, record))
  return true
}

function useWal(db: Database.Database): void {
  // WAL lets readers run beside the one writer; NORMAL is durable in WAL except on power loss.
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
}

function createTable(db: Database.Database, table: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS "${table}" (
      key TEXT PRIMARY KEY NOT NULL,
      user_id TEXT,
      v INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      record TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS "${table}_user_id" ON "${table}" (user_id, created_at);
    CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);
    CREATE TABLE IF NOT EXISTS "${table}_not_before" (
      scope TEXT PRIMARY KEY NOT NULL,
      at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
  `)
}

const IF_AT = ' AND v = @loaded AND expires_at > @now'

/** The UPDATE that writes a whole row under `key` (and `user_id` when `withUser`), then `and`. */
function rewrite(t: string, withUser: boolean, and: string): string {
  const user = withUser ? 'user_id = @userId, ' : ''
  return `UPDATE ${t} SET ${user}v = @v, expires_at = @expiresAt, record = @record WHERE key = @key${and}`
}

function prepareStatements(db: Database.Database, table: string) {
  const t = `"${table}"`
  type KeyAt = { key: string; now: number }
  type UserAt = { userId: string; now: number }
  type IfAt = Row & { loaded: number; now: number }
  return {
    get: db.prepare<KeyAt, { v: number; record: string }>(
      `SELECT v, record FROM ${t} WHERE key = @key AND expires_at > @now`,
    ),
    dropExpired: db.prepare<KeyAt>(`DELETE FROM ${t} WHERE key = @key AND expires_at <= @now`),
    insert: db.prepare<Row>(
      `INSERT INTO ${t} (key, user_id, v, created_at, expires_at, record)
       VALUES (@key, @userId, @v, @createdAt, @expiresAt, @record)`,
    ),
    // user_id is set only when the patch changes it: naming it rewrites its index entry.
    write: db.prepare<Row>(rewrite(t, false, '')),
    writeUser: db.prepare<Row>(rewrite(t, true, '')),
    // Only over the version the patch was computed from, and only a live record.
    writeIfAt: db.prepare<IfAt>(rewrite(t, false, IF_AT)),
    writeIfUserAt: db.prepare<IfAt>(rewrite(t, true, IF_AT)),
    // rowid breaks createdAt ties in insertion order.
    keysByUser: db.prepare<UserAt, { key: string }>(
      `SELECT key FROM ${t} WHERE user_id = @userId AND expires_at > @now ORDER BY created_at, rowid`,
    ),
    listByUser: db.prepare<UserAt, { key: string; record: string }>(
      `SELECT key, record FROM ${t} WHERE user_id = @userId AND expires_at > @now
       ORDER BY created_at, rowid`,
    ),
    destroy: db.prepare<[string]>(`DELETE FROM ${t} WHERE key = ?`),
    destroyByUser: db.prepare<
      { userId: string; except: string | null },
      { key: string; expires_at: number }
    >(`DELETE FROM ${t} WHERE user_id = @userId AND key IS NOT @except RETURNING key, expires_at`),
    prune: db.prepare<[number]>(`DELETE FROM ${t} WHERE expires_at <= ?`),
    getMark: db.prepare<{ scope: string; now: number }, { at: number }>(
      `SELECT at FROM "${table}_not_before" WHERE scope = @scope AND expires_at > @now`,
    ),
    // SET reads the old row: a live mark keeps the later time and expiry, an expired one is replaced.
    setMark: db.prepare<{ scope: string; at: number; expiresAt: number; now: number }>(
      `INSERT INTO "${table}_not_before" (scope, at, expires_at) VALUES (@scope, @at, @expiresAt)
       ON CONFLICT (scope) DO UPDATE SET
         at = CASE WHEN expires_at > @now THEN max(at, excluded.at) ELSE excluded.at END,
         expires_at = CASE WHEN expires_at > @now
           THEN max(expires_at, excluded.expires_at) ELSE excluded.expires_at END`,
    ),
  }
}

function toRow(key: string, record: SessionRecord): Row {
  const { userId = null, v, createdAt } = record
  return { key, userId, v, createdAt, expiresAt: expiresAt(record), record: JSON.stringify(record) }
}

/**
 * The change of `patch` as it stands now, for a merge that runs later in the batch: the data
 * values through JSON (a copy, as they will be stored), the rest copied.
 */
function frozenChange(patch: SessionPatch): SessionChange {
  const set = JSON.parse(JSON.stringify(patch.set)) as Record<string, unknown>
  return { set, unset: [...patch.unset], fields: { ...patch.fields }, times: { ...patch.times } }
}

function parse(json: string): SessionRecord {
  // JSON.parse defines `__proto__` as an own property, never as the prototype.
  return JSON.parse(json) as SessionRecord
}
