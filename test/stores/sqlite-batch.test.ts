/** Group commit of SqliteStore's writes (src/stores/sqlite-batch.ts). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { WriteBatch } from '../../src/stores/sqlite-batch.js'
import { SqliteStore } from '../../src/stores/sqlite.js'
import { makePatch, makeRecord } from './conformance.js'
import { T0 } from './fixtures.js'

const clock = { now: () => T0 }

/** A WAL database file in a fresh directory, and a store on it; both go after the test. */
function walStore(t: TestContext, timeout = 5000) {
  const dir = mkdtempSync(join(tmpdir(), 'tether-batch-'))
  const path = join(dir, 'sessions.db')
  const db = new Database(path, { timeout })
  db.pragma('journal_mode = WAL')
  const store = new SqliteStore({ db, clock })
  t.after(async function cleanUp() {
    await store.close()
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { db, store, path }
}

/** Frames in the WAL file now (a checkpoint that waits for nobody reports them). */
function walFrames(db: Database.Database): number {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>
  return row!.log
}

describe('SqliteStore group commit', function groupCommit() {
  it('commits the writes of one turn of the event loop together, each applied', async function shared(t) {
    const { db, store } = walStore(t)
    db.pragma('wal_autocheckpoint = 0')
    const base = makeRecord({ data: { n: 0 } })
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(`k${i}`, base)))
    db.pragma('wal_checkpoint(TRUNCATE)')
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update(`k${i}`, makePatch(base, { set: { n: i + 1 } })),
      ),
    )
    for (const result of results) assert.deepEqual(result, { ok: true, v: 2 })
    for (let i = 0; i < 20; i++) assert.equal((await store.get(`k${i}`))?.data['n'], i + 1)
    // Twenty commits append at least twenty frames (one per changed page each); one commit
    // appends each changed page once.
    const frames = walFrames(db)
    assert.ok(frames > 0 && frames < 20, `${frames} WAL frames for 20 updates`)
  })

  it('settles a write only after its commit, not when it is asked for', async function afterCommit(t) {
    const { store } = walStore(t)
    const base = makeRecord()
    const created = store.create('s', base)
    // Asked for, not yet committed: a read in the same turn does not see it.
    assert.equal(await store.get('s'), null)
    assert.deepEqual(await created, [])
    assert.deepEqual(await store.get('s'), base)
  })

  it('writes each record as it was when the write was asked for, not when the batch runs', async function asAsked(t) {
    const { store } = walStore(t)
    const cart: unknown[] = ['x']
    const record = makeRecord({ data: { cart } })
    const created = store.create('s', record)
    const patch = makePatch(record, { set: { cart } })
    const merged = store.update('s', { ...patch, next: { ...patch.next, v: 7 } })
    const updated = store.update('s', makePatch(record, { set: { cart } }))
    // Changed after the calls, before the commit: neither the change nor a value JSON cannot
    // hold reaches the file, and no write fails for it.
    cart.push(10n)
    assert.deepEqual(await created, [])
    assert.deepEqual(await merged, { ok: true, v: 2 })
    assert.deepEqual(await updated, { ok: true, v: 3 })
    assert.deepEqual((await store.get('s'))?.data, { cart: ['x'] })
  })

  it('rejects only the write that failed; the others of its batch are kept', async function alone(t) {
    const { store } = walStore(t)
    const base = makeRecord({ userId: 'u' })
    await store.create('taken', base)
    const outcomes = await Promise.allSettled([
      store.create('a', base),
      store.create('taken', base),
      store.update('taken', makePatch(base, { set: { kept: true } })),
      store.create('b', base, { maxPerUser: 1, onLimit: 'refuse' }),
      store.create('c', base),
    ])
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    )
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /in use|exists/i)
    assert.equal((await store.get('taken'))?.data['kept'], true)
    for (const key of ['a', 'c']) assert.notEqual(await store.get(key), null, key)
    assert.equal(await store.get('b'), null)
  })

  it('rejects every write of a batch that cannot commit, keeps none, then works again', async function whole(t) {
    const { store, path } = walStore(t, 20)
    await store.create('s', makeRecord())
    // Another connection holds the write lock: the batch's IMMEDIATE transaction cannot start.
    const other = new Database(path)
    t.after(() => other.close())
    other.exec('BEGIN IMMEDIATE')
    const outcomes = await Promise.allSettled([
      store.create('new', makeRecord()),
      store.update('s', makePatch(makeRecord(), { set: { a: 1 } })),
      store.destroy('s'),
    ])
    for (const outcome of outcomes) {
      assert.ok(outcome.status === 'rejected')
      assert.match(String(outcome.reason), /locked|busy/i)
    }
    other.exec('ROLLBACK')
    assert.equal(await store.get('new'), null)
    assert.deepEqual((await store.get('s'))?.data, {})
    assert.deepEqual(await store.update('s', makePatch(makeRecord(), { set: { a: 1 } })), {
      ok: true,
      v: 2,
    })
  })

  it('commits writes asked for before close', async function beforeClose(t) {
    const dir = mkdtempSync(join(tmpdir(), 'tether-batch-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'sessions.db')
    const store = new SqliteStore({ path, clock })
    const created = store.create('s', makeRecord())
    await store.close()
    assert.deepEqual(await created, [])
    const reopened = new SqliteStore({ path, clock })
    t.after(() => reopened.close())
    assert.deepEqual(await reopened.get('s'), makeRecord())
  })
})

describe('WriteBatch', function writeBatch() {
  it('fails the whole batch when SQLite rolled the transaction back under it', async function rolledBack(t) {
    const db = new Database(':memory:')
    t.after(() => db.close())
    db.exec('CREATE TABLE t (x INTEGER)')
    const batch = new WriteBatch(db)
    const outcomes = await Promise.allSettled([
      batch.add(() => db.prepare('INSERT INTO t VALUES (1)').run()),
      // What a full disk does: the error ends the transaction, not just the statement.
      batch.add(() => {
        db.exec('ROLLBACK')
        throw new Error('disk full (test)')
      }),
      batch.add(() => db.prepare('INSERT INTO t VALUES (2)').run()),
    ])
    for (const outcome of outcomes) assert.equal(outcome.status, 'rejected')
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM t').get(), { n: 0 })
  })
})
