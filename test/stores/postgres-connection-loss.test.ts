/**
 * PostgresStore when its connection dies in the middle of a capped login's transaction (found by
 * test/faults/postgres.faults.ts): a checked-out `pg` client emits 'error' when its connection
 * drops, and with no listener that event crashed the process. Now the create rejects, the broken
 * client is discarded, and the pool serves the next login.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import pg from 'pg'
import { PostgresStore } from '../../src/stores/postgres.js'
import { DATABASE_URL, skipUnlessReachable } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { makeRecord, T0 } from './fixtures.js'

const skip = await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL')

describe('PostgresStore: connection lost in a capped login', { skip }, () => {
  it('rejects the create and serves the next one when the backend is terminated mid-transaction', async (t) => {
    const tag = `tether-conn-loss-${randomBytes(4).toString('hex')}`
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, application_name: tag })
    const locker = new pg.Client({ connectionString: DATABASE_URL })
    await locker.connect()
    const table = `tether_test_${randomBytes(6).toString('hex')}`
    const store = new PostgresStore({ pool, table, clock: { now: () => T0 }, cleanupIntervalMs: 0 })
    t.after(async () => {
      await locker.query('ROLLBACK').catch(() => {})
      await locker.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
      await locker.end()
      await pool.end()
    })
    await store.migrate()

    // Hold the user's lock, so the login waits inside its transaction (BEGIN already sent).
    await locker.query('BEGIN')
    await locker.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [table, 'dana'])
    const creating = store.create('k1', makeRecord({ userId: 'dana' }), { maxPerUser: 2 })
    let waiting: number | undefined
    await waitFor('the terminated backend to be gone', async () => {
      const { rows } = await locker.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'`,
        [tag],
      )
      waiting = rows[0]?.pid
      return waiting !== undefined
    })
    await locker.query('SELECT pg_terminate_backend($1)', [waiting])
    await assert.rejects(creating, 'the create fails with the lost connection, not the process')
    await locker.query('ROLLBACK')

    await store.create('k2', makeRecord({ userId: 'dana' }), { maxPerUser: 2 })
    assert.deepEqual(
      (await store.listByUser('dana')).map((s) => s.key),
      ['k2'],
      'the interrupted login wrote nothing; the next one is listed',
    )
  })
})
