import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../src/stores/sqlite.js'
import type { SqliteStoreOptions } from '../../src/stores/sqlite.js'
import { expiresAt } from '../../src/stores/types.js'
import { describeStoreConformance, makePatch, makeRecord } from './conformance.js'
import { IDLE_MS, listedKeys, T0 } from './fixtures.js'
import type { ManualClock } from './fixtures.js'

describeStoreConformance('SqliteStore', function openSqliteStore(clock) {
  const dir = mkdtempSync(join(tmpdir(), 'tether-sqlite-'))
  const store = new SqliteStore({ path: join(dir, 'sessions.db'), clock })
  return Promise.resolve({
    store,
    async close() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  })
})

function manualClock(): ManualClock {
  return {
    t: T0,
    now() {
      return this.t
    },
  }
}

/** A database file in a fresh temporary directory, removed after the test. */
function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-sqlite-'))
  t.after(function removeDir() {
    rmSync(dir, { recursive: true, force: true })
  })
  return join(dir, 'sessions.db')
}

/** An in-memory database the test owns, closed after the test. */
function userDb(t: TestContext): Database.Database {
  const db = new Database(':memory:')
  t.after(function closeDb() {
    if (db.open) db.close()
  })
  return db
}

type Row = { key: string; user_id: string | null; v: number; expires_at: number }

function rows(db: Database.Database, table = 'tether_sessions'): Row[] {
  return db
    .prepare<[], Row>(`SELECT key, user_id, v, expires_at FROM "${table}" ORDER BY key`)
    .all()
}

function keysIn(db: Database.Database, table?: string): string[] {
  const keys: string[] = []
  for (const row of rows(db, table)) keys.push(row.key)
  return keys
}

describe('SqliteStore', function sqliteStore() {
  it('keeps sessions in its file across close and reopen', async function reopen(t) {
    const path = tempFile(t)
    const first = new SqliteStore({ path, clock: manualClock() })
    const base = makeRecord({ userId: 'u', data: { cart: [1, 2] } })
    await first.create('a', base)
    await first.create('b', makeRecord())
    const updated = await first.update('a', makePatch(base, { set: { paid: true } }))
    await first.close()
    const second = new SqliteStore({ path, clock: manualClock() })
    t.after(second.close.bind(second))
    assert.deepEqual(updated, { ok: true, v: 2 })
    assert.deepEqual(await second.get('a'), { ...base, v: 2, data: { cart: [1, 2], paid: true } })
    assert.deepEqual(await second.get('b'), makeRecord())
    assert.deepEqual(await listedKeys(second, 'u'), ['a'])
  })

  it('opens its own file in WAL mode with synchronous NORMAL', function wal(t) {
    const path = tempFile(t)
    const store = new SqliteStore({ path })
    t.after(store.close.bind(store))
    const other = new Database(path, { readonly: true })
    t.after(other.close.bind(other))
    assert.equal(other.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(store['db'].pragma('synchronous', { simple: true }), 1)
  })

  it('prunes expired rows and keeps live ones', async function prune(t) {
    const db = userDb(t)
    const clock = manualClock()
    const store = new SqliteStore({ db, clock })
    t.after(store.close.bind(store))
    await store.create('idle', makeRecord({ idleExpiresAt: T0 + 1000 }))
    await store.create('absolute', makeRecord({ absoluteExpiresAt: T0 + 2000 }))
    await store.create('live', makeRecord())
    clock.t = T0 + 1999
    assert.equal(store.pruneExpired(), 1)
    clock.t = T0 + 2000
    assert.equal(store.pruneExpired(), 1)
    assert.equal(store.pruneExpired(), 0)
    assert.deepEqual(keysIn(db), ['live'])
  })

  it('writes expiresAt(record) to expires_at on create, update and touch', async function column(t) {
    const db = userDb(t)
    const store = new SqliteStore({ db, clock: manualClock() })
    t.after(store.close.bind(store))
    const base = makeRecord({ userId: 'u', absoluteExpiresAt: T0 + IDLE_MS + 500 })
    await store.create('s', base)
    assert.deepEqual(rows(db), [{ key: 's', user_id: 'u', v: 1, expires_at: expiresAt(base) }])
    const times = { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 1 + IDLE_MS }
    await store.update('s', makePatch(base, { times, fields: { userId: 'w' } }))
    assert.deepEqual(rows(db), [{ key: 's', user_id: 'w', v: 2, expires_at: T0 + 1 + IDLE_MS }])
    await store.touch('s', { lastSeenAt: T0 + 2, idleExpiresAt: T0 + 9 * IDLE_MS })
    assert.deepEqual(rows(db), [
      { key: 's', user_id: 'w', v: 2, expires_at: base.absoluteExpiresAt },
    ])
  })

  it('keeps sessions in the table it is given', async function table(t) {
    const db = userDb(t)
    const mine = new SqliteStore({ db, table: 'my_sessions', clock: manualClock() })
    const theirs = new SqliteStore({ db, clock: manualClock() })
    t.after(mine.close.bind(mine))
    t.after(theirs.close.bind(theirs))
    await mine.create('s', makeRecord())
    assert.deepEqual(keysIn(db, 'my_sessions'), ['s'])
    assert.equal(await theirs.get('s'), null)
  })

  it('fails at construction over a table of another shape', function foreignTable(t) {
    const db = userDb(t)
    db.exec('CREATE TABLE tether_sessions (id INTEGER PRIMARY KEY)')
    assert.throws(function construct() {
      return new SqliteStore({ db })
    }, /no such column/)
    assert.equal(db.open, true)
  })

  it('leaves a database it was given open on close', async function userOwned(t) {
    const db = userDb(t)
    const store = new SqliteStore({ db })
    await store.close()
    assert.equal(db.open, true)
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM tether_sessions').get(), { n: 0 })
  })

  it('closes the database it opened and then rejects calls', async function owned(t) {
    const store = new SqliteStore({ path: tempFile(t) })
    t.after(store.close.bind(store))
    assert.equal(store['timer']?.hasRef(), false)
    await store.close()
    assert.equal(store['db'].open, false)
    assert.equal(store['timer'], undefined)
    await assert.rejects(store.get('s'), TypeError)
  })

  it('rejects every call when the database fails', async function failing(t) {
    const db = userDb(t)
    const store = new SqliteStore({ db })
    t.after(store.close.bind(store))
    db.close()
    await assert.rejects(store.get('s'), /database connection is not open/)
    await assert.rejects(store.create('s', makeRecord()), /database connection is not open/)
    await assert.rejects(store.listByUser('u'), /database connection is not open/)
  })

  it('warns instead of crashing when background pruning fails', function warns(t) {
    const db = userDb(t)
    const store = new SqliteStore({ db })
    t.after(store.close.bind(store))
    const warn = t.mock.method(process, 'emitWarning', function silenced() {})
    db.close()
    store['pruneInBackground']()
    assert.equal(warn.mock.callCount(), 1)
    assert.match(String(warn.mock.calls[0]?.arguments[0]), /could not prune expired sessions/)
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    ['neither db nor path', {}, /^Give exactly one of "db" .* got neither$/],
    ['both db and path', { db: {}, path: 'x.db' }, /got both$/],
    ['an empty path', { path: '' }, /^"path" must be a non-empty file name; got ""$/],
    [
      'a db without prepare()',
      { db: {} },
      /^"db" must be a better-sqlite3 Database; got an object$/,
    ],
    ['table ""', { path: ':memory:', table: '' }, /^"table" must be .*; got ""$/],
    ['table "1abc"', { path: ':memory:', table: '1abc' }, /^"table" .* got "1abc"$/],
    ['table "a-b"', { path: ':memory:', table: 'a-b' }, /^"table" .* got "a-b"$/],
    ['an injected table', { path: ':memory:', table: 'x"; DROP TABLE y; --' }, /^"table"/],
    ['a 64-character table', { path: ':memory:', table: 'a'.repeat(64) }, /^"table"/],
    [
      'cleanupIntervalMs 0',
      { path: ':memory:', cleanupIntervalMs: 0 },
      /^"cleanupIntervalMs" .* got 0\./,
    ],
    ['cleanupIntervalMs "5m"', { path: ':memory:', cleanupIntervalMs: '5m' }, /got "5m"\./],
    ['a clock without now()', { path: ':memory:', clock: {} }, /^"clock" .* got an object$/],
  ]
  for (const [label, options, message] of invalid) {
    it(`refuses ${label} with TETHER_INVALID_OPTION`, function badOption() {
      assert.throws(
        function construct() {
          return new SqliteStore(options as SqliteStoreOptions)
        },
        { name: 'TetherError', code: 'TETHER_INVALID_OPTION', message },
      )
    })
  }

  it('accepts a 63-character table name', async function longName(t) {
    const table = `_${'a'.repeat(62)}`
    const store = new SqliteStore({ path: ':memory:', table, clock: manualClock() })
    t.after(store.close.bind(store))
    await store.create('s', makeRecord())
    assert.notEqual(await store.get('s'), null)
  })
})
