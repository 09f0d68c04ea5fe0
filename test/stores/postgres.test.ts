import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import pg from 'pg'
import { createSessionManager } from '../../src/core/manager.js'
import type { TetherError } from '../../src/errors.js'
import { PostgresStore } from '../../src/stores/postgres.js'
import type { PostgresStoreOptions } from '../../src/stores/postgres.js'
import { expiresAt } from '../../src/stores/types.js'
import type { UpdateResult } from '../../src/stores/types.js'
import { DATABASE_URL, skipUnlessReachable } from '../helpers/services.js'
import { describeStoreConformance, makePatch, makeRecord } from './conformance.js'
import { IDLE_MS, listedKeys, T0 } from './fixtures.js'
import type { ManualClock } from './fixtures.js'

const skip = await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL')

// One pool for the file, opened on first use so a skipped run never connects.
let shared: pg.Pool | undefined
function pool(): pg.Pool {
  shared ??= new pg.Pool({ connectionString: DATABASE_URL, max: 12 })
  return shared
}
after(function endPool() {
  return shared?.end()
})

function tableName(): string {
  return `tether_test_${randomBytes(6).toString('hex')}`
}

async function dropTable(table: string): Promise<void> {
  await pool().query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
}

describeStoreConformance(
  'PostgresStore',
  async function openPostgresStore(clock) {
    const table = tableName()
    const store = new PostgresStore({ pool: pool(), table, clock, cleanupIntervalMs: 0 })
    await store.migrate()
    return {
      store,
      async close() {
        await store.close()
        await dropTable(table)
      },
    }
  },
  { skip },
)

function manualClock(): ManualClock {
  return {
    t: T0,
    now() {
      return this.t
    },
  }
}

/** A migrated store on a fresh table, dropped after the test. */
async function openStore(
  t: TestContext,
  options: Partial<PostgresStoreOptions> = {},
): Promise<{ store: PostgresStore; table: string; clock: ManualClock }> {
  const table = options.table ?? tableName()
  const clock = manualClock()
  const store = new PostgresStore({ pool: pool(), table, clock, cleanupIntervalMs: 0, ...options })
  t.after(async function cleanUp() {
    await store.close()
    await dropTable(table)
  })
  if (options.autoCreate !== true) await store.migrate()
  return { store, table, clock }
}

function isConflict(result: UpdateResult): boolean {
  return !result.ok && result.reason === 'conflict'
}

type Row = { key: string; user_id: string | null; v: number; expires_at: string }

async function rows(table: string): Promise<Row[]> {
  const result = await pool().query<Row>(
    `SELECT key, user_id, v, expires_at FROM ${table} ORDER BY key`,
  )
  return result.rows
}

async function keysIn(table: string): Promise<string[]> {
  return (await rows(table)).map(function keyOf(row) {
    return row.key
  })
}

describe('PostgresStore', { skip }, function postgresStore() {
  it('creates table and indexes in migrate and can run it again, also concurrently', async function migrate(t) {
    const { store, table } = await openStore(t)
    const other = new PostgresStore({ pool: pool(), table, cleanupIntervalMs: 0 })
    await Promise.all([store.migrate(), other.migrate(), store.migrate()])
    const { rows: indexes } = await pool().query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
      [table],
    )
    assert.equal(indexes.length, 3)
    assert.match(indexes[0]?.indexdef ?? '', /\(expires_at\)$/)
    assert.match(indexes[1]?.indexdef ?? '', /UNIQUE INDEX .* \(key\)$/)
    assert.match(indexes[2]?.indexdef ?? '', /\(user_id, created_at, seq\)$/)
    const fresh = tableName()
    t.after(dropTable.bind(null, fresh))
    const racers = [1, 2, 3, 4].map(function racer() {
      return new PostgresStore({ pool: pool(), table: fresh, cleanupIntervalMs: 0 }).migrate()
    })
    await Promise.all(racers)
  })

  it('loads sessions on a table migrated before marks existed, and refuses only to set a mark', async function oldSchema(t) {
    const { store, table, clock } = await openStore(t)
    await pool().query(`DROP TABLE ${table}_not_before`)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const login = await manager.login(manager.create({}), {}, 'u', {})
    assert.equal(await store.getNotBefore('*'), null)
    assert.ok((await manager.load({ token: manager.token(login) })).session)
    await assert.rejects(manager.revokeAllSessions(), function undefinedTable(err: TetherError) {
      assert.equal(err.code, 'TETHER_STORE_UNAVAILABLE')
      assert.equal((err.cause as { code?: string }).code, '42P01')
      return true
    })
    await store.migrate()
    clock.t += 1
    await manager.revokeAllSessions()
    assert.equal((await manager.load({ token: manager.token(login) })).rejected, 'revoked')
  })

  it('rejects with the driver error on a missing table without autoCreate', async function noTable() {
    const store = new PostgresStore({ pool: pool(), table: tableName(), cleanupIntervalMs: 0 })
    await assert.rejects(store.get('s'), { code: '42P01' })
    await assert.rejects(store.create('s', makeRecord()), { code: '42P01' })
  })

  it('creates its table before the first operation with autoCreate', async function autoCreate(t) {
    const { store, table } = await openStore(t, { autoCreate: true })
    const base = makeRecord({ userId: 'u' })
    await Promise.all([store.create('a', base), store.create('b', base, { maxPerUser: 5 })])
    assert.deepEqual(await store.get('a'), base)
    assert.deepEqual(await keysIn(table), ['a', 'b'])
  })

  it('writes expiresAt(record) to expires_at on create, update and touch', async function column(t) {
    const { store, table } = await openStore(t)
    const base = makeRecord({ userId: 'u', absoluteExpiresAt: T0 + IDLE_MS + 500 })
    await store.create('s', base)
    assert.deepEqual(await rows(table), [
      { key: 's', user_id: 'u', v: 1, expires_at: String(expiresAt(base)) },
    ])
    const times = { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 1 + IDLE_MS }
    await store.update('s', makePatch(base, { times, fields: { userId: 'w' } }))
    assert.deepEqual(await rows(table), [
      { key: 's', user_id: 'w', v: 2, expires_at: String(T0 + 1 + IDLE_MS) },
    ])
    await store.touch('s', { lastSeenAt: T0 + 2, idleExpiresAt: T0 + 9 * IDLE_MS })
    assert.deepEqual(await rows(table), [
      { key: 's', user_id: 'w', v: 2, expires_at: String(base.absoluteExpiresAt) },
    ])
  })

  it('prunes expired rows only and returns how many', async function prune(t) {
    const { store, table, clock } = await openStore(t)
    await store.create('idle', makeRecord({ idleExpiresAt: T0 + 1000 }))
    await store.create('absolute', makeRecord({ absoluteExpiresAt: T0 + 2000 }))
    await store.create('live', makeRecord())
    clock.t = T0 + 1999
    assert.equal(await store.pruneExpired(), 1)
    clock.t = T0 + 2000
    assert.equal(await store.pruneExpired(), 1)
    assert.equal(await store.pruneExpired(), 0)
    assert.deepEqual(await keysIn(table), ['live'])
  })

  it('skips pruning while another instance holds the prune lock', async function pruneLock(t) {
    const { store, table, clock } = await openStore(t)
    await store.create('old', makeRecord())
    clock.t = T0 + IDLE_MS
    const holder = await pool().connect()
    t.after(function releaseHolder() {
      holder.release()
    })
    const lockName = `tether-session:prune:${table}`
    await holder.query('SELECT pg_advisory_lock(hashtext($1))', [lockName])
    assert.equal(await store.pruneExpired(), 0)
    assert.deepEqual(await keysIn(table), ['old'])
    await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName])
    assert.equal(await store.pruneExpired(), 1)
    assert.deepEqual(await keysIn(table), [])
  })

  it('deletes each expired row once when two instances prune together', async function twoPruners(t) {
    const { store, table, clock } = await openStore(t)
    const other = new PostgresStore({ pool: pool(), table, clock, cleanupIntervalMs: 0 })
    for (let n = 0; n < 200; n++) await store.create(`s${n}`, makeRecord({ createdAt: T0 - n }))
    await store.create('live', makeRecord({ createdAt: T0 + IDLE_MS }))
    clock.t = T0 + IDLE_MS
    const counts = await Promise.all([store.pruneExpired(), other.pruneExpired()])
    assert.equal(counts[0] + counts[1], 200)
    assert.deepEqual(await keysIn(table), ['live'])
  })

  it('never lets two instances exceed maxPerUser while 50 logins race', async function race(t) {
    const { store, table } = await openStore(t)
    const other = new PostgresStore({
      pool: pool(),
      table,
      clock: manualClock(),
      cleanupIntervalMs: 0,
    })
    const counts: number[] = []
    let done = false
    async function sample(): Promise<void> {
      while (!done) counts.push((await store.listByUser('u')).length)
    }
    const sampling = sample()
    const creates: Array<Promise<string[]>> = []
    for (let n = 0; n < 50; n++) {
      const target = n % 2 === 0 ? store : other
      creates.push(
        target.create(`s${n}`, makeRecord({ userId: 'u', createdAt: T0 + n }), { maxPerUser: 3 }),
      )
    }
    const evicted = (await Promise.all(creates)).flat()
    done = true
    await sampling
    const listed = await listedKeys(store, 'u')
    assert.equal(listed.length, 3)
    assert.equal(evicted.length, 47)
    assert.equal(new Set([...evicted, ...listed]).size, 50)
    assert.ok(counts.length > 0 && Math.max(...counts) <= 3, `listed ${Math.max(...counts)}`)
  })

  it('prepares its statements on the connection, or never with preparedStatements: false', async function prepared(t) {
    /** The names of the prepared statements on a one-connection pool after a store used it. */
    async function preparedNames(options: Partial<PostgresStoreOptions>): Promise<string[]> {
      const single = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
      t.after(() => single.end())
      const table = tableName()
      const store = new PostgresStore({
        pool: single,
        table,
        clock: manualClock(),
        cleanupIntervalMs: 0,
        ...options,
      })
      t.after(async () => {
        await store.close()
        await dropTable(table)
      })
      await store.migrate()
      await store.create('s', makeRecord())
      assert.deepEqual(await store.update('s', makePatch(makeRecord(), { set: { a: 1 } })), {
        ok: true,
        v: 2,
      })
      assert.equal((await store.get('s'))?.data['a'], 1)
      const { rows } = await single.query<{ name: string }>(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'tether\\_%' ORDER BY name",
      )
      return rows.map((row) => row.name)
    }
    assert.equal((await preparedNames({})).length, 3, 'create, update and get, each prepared')
    assert.deepEqual(await preparedNames({ preparedStatements: false }), [])
  })

  it('runs two stores on two tables over one connection, and survives its table made anew', async function shared(t) {
    const single = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
    t.after(() => single.end())
    const tables = [tableName(), tableName()]
    const stores = tables.map(
      (table) =>
        new PostgresStore({ pool: single, table, clock: manualClock(), cleanupIntervalMs: 0 }),
    )
    t.after(async () => {
      for (const store of stores) await store.close()
      for (const table of tables) await dropTable(table)
    })
    for (const store of stores) await store.migrate()
    // Same statements on two tables: two names (pg refuses one name for two texts).
    for (const [i, store] of stores.entries()) await store.create('s', makeRecord({ data: { i } }))
    for (const [i, store] of stores.entries()) assert.deepEqual((await store.get('s'))?.data, { i })
    // Dropped and migrated again: PostgreSQL plans the prepared statements anew.
    await dropTable(tables[0]!)
    await stores[0]!.migrate()
    assert.equal(await stores[0]!.get('s'), null)
    await stores[0]!.create('s', makeRecord({ data: { again: true } }))
    assert.deepEqual((await stores[0]!.get('s'))?.data, { again: true })
  })

  it('lets one of 20 concurrent updates with the same ifVersion write', async function cas(t) {
    const { store } = await openStore(t)
    const base = makeRecord({ data: { n: 0 } })
    await store.create('s', base)
    const updates: Array<Promise<UpdateResult>> = []
    for (let n = 1; n <= 20; n++) {
      updates.push(store.update('s', makePatch(base, { set: { n } }), { ifVersion: 1 }))
    }
    const results = await Promise.all(updates)
    const written = results.filter(function isOk(result) {
      return result.ok
    })
    assert.equal(written.length, 1)
    assert.equal(results.filter(isConflict).length, 19)
    const winner = results.findIndex(function isOk(result) {
      return result.ok
    })
    const stored = { ...base, v: 2, data: { ...base.data, n: winner + 1 } }
    assert.deepEqual(await store.get('s'), stored)
  })

  it('undoes the evictions when a capped create finds a live session under its key', async function undo(t) {
    const { store } = await openStore(t)
    await store.create('a', makeRecord({ userId: 'u', createdAt: T0 }))
    await store.create('b', makeRecord({ userId: 'u', createdAt: T0 + 1 }))
    await assert.rejects(
      store.create('b', makeRecord({ userId: 'u', createdAt: T0 + 2 }), { maxPerUser: 1 }),
      /a live session already exists under this key/,
    )
    assert.deepEqual(await listedKeys(store, 'u'), ['a', 'b'])
  })

  it('stores NUL, lone surrogates and U+E000 in keys, values and user ids', async function awkward(t) {
    const { store } = await openStore(t)
    const odd = 'nul\u0000 lone\ud800 low\udc00 mark\uE000e mark\uE000u0000 slash\\u0000'
    const base = makeRecord({ userId: odd, data: { [odd]: odd, plain: [odd, { [odd]: 1 }] } })
    await store.create('s', base)
    assert.deepEqual(await store.get('s'), base)
    await store.update('s', makePatch(base, { set: { [`${odd}2`]: odd }, unset: [odd] }))
    const [listed] = await store.listByUser(odd)
    assert.deepEqual(listed?.record.data, { plain: base.data.plain, [`${odd}2`]: odd })
    assert.deepEqual(await store.destroyByUser(odd), ['s'])
  })

  it('keeps sessions in a schema-qualified table', async function schema(t) {
    const schemaName = `tether_test_${randomBytes(6).toString('hex')}`
    await pool().query(`CREATE SCHEMA ${schemaName}`)
    t.after(async function dropSchema() {
      await pool().query(`DROP SCHEMA ${schemaName} CASCADE`)
    })
    const { store } = await openStore(t, { table: `${schemaName}.sessions` })
    await store.create('s', makeRecord({ userId: 'u' }))
    assert.deepEqual(await keysIn(`${schemaName}.sessions`), ['s'])
    assert.deepEqual(await listedKeys(store, 'u'), ['s'])
    await store.setNotBefore('*', T0, T0 + IDLE_MS)
    const { rows: marks } = await pool().query<{ scope: string }>(
      `SELECT scope FROM ${schemaName}.sessions_not_before`,
    )
    assert.deepEqual(marks, [{ scope: '*' }], 'marks live beside the sessions, in their schema')
  })

  it('gives a 63-character table two distinct indexes', async function longName(t) {
    const table = `_${'a'.repeat(56)}${randomBytes(3).toString('hex')}`
    const { store } = await openStore(t, { table })
    await store.create('s', makeRecord())
    const { rows: indexes } = await pool().query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1',
      [table],
    )
    assert.equal(indexes[0]?.n, 3)
    // Its marks table: the name shortened with a hash, as the index names are.
    const hash = createHash('sha256').update(table).digest('hex').slice(0, 8)
    const marksTable = `${table.slice(0, 43)}_${hash}_not_before`
    t.after(() => pool().query(`DROP TABLE IF EXISTS "${marksTable}"`))
    const { rows: marks } = await pool().query(
      'SELECT tablename FROM pg_tables WHERE tablename = $1',
      [marksTable],
    )
    assert.equal(marks.length, 1)
    await store.setNotBefore('*', T0, T0 + IDLE_MS)
    assert.equal(await store.getNotBefore('*'), T0)
  })

  it('leaves the pool open on close and stops its timer', async function userPool(t) {
    const userPool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
    t.after(function endUserPool() {
      return userPool.ended ? undefined : userPool.end()
    })
    const store = new PostgresStore({ pool: userPool, table: tableName() })
    assert.equal(store['timer']?.hasRef(), false)
    await store.close()
    assert.equal(store['timer'], undefined)
    assert.equal(userPool.ended, false)
    assert.deepEqual((await userPool.query('SELECT 1 AS one')).rows, [{ one: 1 }])
  })
})

function unused(): Promise<never> {
  return Promise.reject(new Error('unused'))
}

/** A stand-in pool for tests that need no server. */
function fakePool(query: () => Promise<never>): pg.Pool {
  return { query, connect: query } as unknown as pg.Pool
}

describe('PostgresStore options', function options() {
  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing pool', { pool: undefined }, /^"pool" must be a pg Pool .*; got undefined$/],
    ['a pool without connect()', { pool: { query() {} } }, /^"pool" .* got an object$/],
    ['table ""', { table: '' }, /^"table" must be .*; got ""$/],
    ['table "Sessions"', { table: 'Sessions' }, /^"table" .* got "Sessions"$/],
    ['table "1abc"', { table: '1abc' }, /^"table" .* got "1abc"$/],
    ['table "a-b"', { table: 'a-b' }, /^"table" .* got "a-b"$/],
    ['table "a.b.c"', { table: 'a.b.c' }, /^"table" .* got "a.b.c"$/],
    ['table "a."', { table: 'a.' }, /^"table" .* got "a."$/],
    ['an injected table', { table: 'x"; DROP TABLE y; --' }, /^"table"/],
    ['a 64-character table', { table: 'a'.repeat(64) }, /^"table"/],
    ['table 42', { table: 42 }, /^"table" .* got 42$/],
    ['autoCreate "yes"', { autoCreate: 'yes' }, /^"autoCreate" must be true or false; got "yes"$/],
    ['cleanupIntervalMs -1', { cleanupIntervalMs: -1 }, /^"cleanupIntervalMs" .* got -1\./],
    [
      'preparedStatements "yes"',
      { preparedStatements: 'yes' },
      /^"preparedStatements" must be true or false; got "yes"$/,
    ],
    ['cleanupIntervalMs "5m"', { cleanupIntervalMs: '5m' }, /got "5m"\./],
    ['cleanupIntervalMs 2 ** 31', { cleanupIntervalMs: 2 ** 31 }, /got 2147483648\./],
    ['a clock without now()', { clock: {} }, /^"clock" .* got an object$/],
  ]
  for (const [label, overrides, message] of invalid) {
    it(`refuses ${label} with TETHER_INVALID_OPTION`, function badOption() {
      const pool = fakePool(unused)
      assert.throws(
        function construct() {
          return new PostgresStore({ pool, ...overrides })
        },
        { name: 'TetherError', code: 'TETHER_INVALID_OPTION', message },
      )
    })
  }

  it('accepts schema-qualified and 63-character names without a timer', async function valid() {
    const pool = fakePool(unused)
    for (const table of ['auth.sessions', `_${'a'.repeat(62)}`, `s.${'b'.repeat(63)}`]) {
      const store = new PostgresStore({ pool, table, cleanupIntervalMs: 0 })
      assert.equal(store['timer'], undefined)
      await store.close()
    }
  })

  it('rejects maxPerUser 0 with TETHER_INVALID_OPTION', async function badCap() {
    const pool = fakePool(unused)
    const store = new PostgresStore({ pool, cleanupIntervalMs: 0 })
    await assert.rejects(store.create('s', makeRecord({ userId: 'u' }), { maxPerUser: 0 }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"maxPerUser" must be a positive integer; got 0',
    })
  })

  it('rejects with the driver error as it is', async function driverError(t) {
    const failure = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const store = new PostgresStore({
      pool: fakePool(function refused() {
        return Promise.reject(failure)
      }),
    })
    t.after(store.close.bind(store))
    await assert.rejects(store.get('s'), failure)
    await assert.rejects(store.create('s', makeRecord({ userId: 'u' }), { maxPerUser: 1 }), failure)
  })

  it('warns instead of crashing when background pruning fails', async function warns(t) {
    const store = new PostgresStore({
      pool: fakePool(function down() {
        return Promise.reject(new Error('down'))
      }),
    })
    t.after(store.close.bind(store))
    const warned = new Promise<unknown>(function onWarning(resolve) {
      t.mock.method(process, 'emitWarning', resolve)
    })
    store['pruneInBackground']()
    assert.match(String(await warned), /could not prune expired sessions: Error: down/)
  })
})
