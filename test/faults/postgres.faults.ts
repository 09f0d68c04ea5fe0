/**
 * PostgreSQL faults under steady load (issue 13, point 1): a private cluster (initdb into a
 * temporary directory, the postmaster a child of this process), killed by pid and started again on
 * the same port and data directory, behind an Express app on Tether's published entry points.
 * Skips with a reason when the server binaries are missing; fails instead under
 * TETHER_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import { PostgresStore } from 'tether-session/stores/postgres'
import { startFaultApp } from '../helpers/fault-app.js'
import {
  findPostgresTools,
  startFaultPostgres,
  type FaultPostgres,
} from '../helpers/fault-postgres.js'
import { waitFor } from '../helpers/wait-for.js'
import { slowProxy } from '../helpers/fault-slow-proxy.js'
import { cookiePair, send } from '../helpers/http.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'
import { assertWritesKept, loadThroughFault, loadThroughSlowStore } from './outage-scenario.js'

const tools = findPostgresTools()
const skip = typeof tools === 'string' ? tools : false
if (skip && REQUIRE_SERVICES) throw new Error(`${skip}, and TETHER_REQUIRE_SERVICES=1 requires it`)

const STORE_TIMEOUT_MS = 500
const APP_NAME = 'tether-faults-app'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let cluster: FaultPostgres | undefined
function server(): FaultPostgres {
  assert.ok(cluster, 'the private cluster is running')
  return cluster
}

/** A pool and a store on a table of its own, on `port` (the cluster's, or a proxy's). */
function openStore(t: TestContext, port: number) {
  const url = new URL(server().url)
  url.port = String(port)
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: 10,
    connectionTimeoutMillis: 1000,
    application_name: APP_NAME,
  })
  pool.on('error', () => {}) // idle clients lose their server in these tests
  const table = `tether_faults_${randomBytes(4).toString('hex')}`
  const store = new PostgresStore({ pool, table, autoCreate: true, cleanupIntervalMs: 0 })
  t.after(async () => {
    await store.close()
    await pool.end()
  })
  return { store, table }
}

describe('PostgreSQL faults under load', { skip }, () => {
  before(async () => {
    if (typeof tools !== 'string') cluster = await startFaultPostgres(tools)
  })
  after(() => cluster?.close())

  for (const policy of ['fail-closed', 'anonymous'] as const) {
    it(`survives a SIGKILL of the postmaster and a restart (${policy}): bounded answers, nothing lost`, async (t) => {
      const { store } = openStore(t, server().port)
      const app = await startFaultApp({
        store,
        storeTimeout: STORE_TIMEOUT_MS,
        onStoreError: policy,
      })
      t.after(() => app.close())
      const name = `postgres SIGKILL postmaster + restart (${policy})`
      const expect = {
        policy,
        storeTimeoutMs: STORE_TIMEOUT_MS,
        after: 'same-user',
        settleMs: 1000,
      } as const
      const run = await loadThroughFault(
        t,
        app,
        { name, down: () => server().kill('SIGKILL'), up: () => server().start() },
        expect,
      )
      await assertWritesKept(t, app, run, expect, name)
    })
  }

  it('answers 503 within storeTimeout while PostgreSQL is slow, and recovers when it is fast again', async (t) => {
    const proxy = await slowProxy(server().port)
    t.after(() => proxy.close())
    const { store } = openStore(t, proxy.port)
    const app = await startFaultApp({ store, storeTimeout: STORE_TIMEOUT_MS })
    t.after(() => app.close())
    await loadThroughSlowStore(t, app, proxy, 'postgres', STORE_TIMEOUT_MS)
  })

  it('keeps the per-user index consistent when a backend dies in the middle of a capped login', async (t) => {
    const CAP = 3
    const { store, table } = openStore(t, server().port)
    const admin = new pg.Pool({ connectionString: server().url, max: 1 })
    admin.on('error', () => {}) // the crash ends its connection too
    t.after(() => admin.end())
    const app = await startFaultApp({ store, storeTimeout: 2000, maxSessionsPerUser: CAP })
    t.after(() => app.close())
    const user = `carol-${randomBytes(3).toString('hex')}`

    interface Login {
      status: number
      cookie: string | undefined
    }
    const logins: Login[] = []
    let running = true
    async function loginLoop(): Promise<void> {
      while (running) {
        const res = await send(app.port, { method: 'POST', path: `/login?user=${user}` })
        logins.push({ status: res.status, cookie: cookiePair(res, 'sid') })
      }
    }
    // Eight logins of one user at a time: they queue on the user's advisory lock inside BEGIN.
    const loops = Array.from({ length: 8 }, loginLoop)
    await waitFor('20 logins did not complete', () => logins.length >= 20)

    // A backend holding or waiting for the user's lock is inside a capped login's transaction.
    let victim: { pid: number; state: string; wait_event: string | null } | undefined
    await waitFor('no backend was found inside a capped login', async () => {
      const { rows } = await admin.query<{ pid: number; state: string; wait_event: string | null }>(
        `SELECT pid, state, wait_event FROM pg_stat_activity
          WHERE application_name = $1 AND xact_start IS NOT NULL
            AND (state = 'idle in transaction' OR wait_event = 'advisory')`,
        [APP_NAME],
      )
      victim = rows[0]
      return victim !== undefined
    })
    const loginsAtKill = logins.length
    // A backend of this test's own cluster: the postmaster answers its death with a crash
    // restart of every backend (restart_after_crash), as after a real crash.
    process.kill(victim!.pid, 'SIGKILL')
    const killedAt = Date.now()
    await sleep(200)
    await server().ready()
    const backAt = Date.now()
    await sleep(1000)
    running = false
    await Promise.all(loops)

    const statuses: Record<string, number> = {}
    for (const l of logins) statuses[String(l.status)] = (statuses[String(l.status)] ?? 0) + 1
    const refused = logins.filter((l) => l.status === 503).length
    const listed = await app.manager.listUserSessions(user)
    const listedRefs = new Set(listed.map((s) => s.ref))
    let liveCookies = 0
    for (const l of logins.filter((x) => x.status === 200)) {
      const res = await send(app.port, { path: '/read', headers: { cookie: l.cookie ?? '' } })
      const body = JSON.parse(res.body) as { user: string | null; ref: string | null }
      if (body.user !== user) continue
      liveCookies++
      assert.ok(listedRefs.has(body.ref!), 'every session that still loads is listed for its user')
    }
    const rows = await admin.query<{ live: number }>(
      `SELECT count(*)::integer AS live FROM ${table} WHERE expires_at > $1`,
      [Date.now()],
    )
    t.diagnostic(
      `[faults] postgres backend SIGKILL mid capped login (cap ${CAP}): killed a backend ` +
        `"${victim!.state}"${victim!.wait_event === null ? '' : ` waiting on ${victim!.wait_event}`} ` +
        `after ${loginsAtKill} logins; back in ${backAt - killedAt} ms; logins ${logins.length} ` +
        `(${JSON.stringify(statuses)}); listed ${listed.length}, live rows ${rows.rows[0]!.live}, ` +
        `cookies that still load ${liveCookies}`,
    )
    assert.deepEqual(app.unexpected, [])
    assert.ok(
      logins.every((l) => l.status === 200 || l.status === 503),
      `logins answered ${JSON.stringify(statuses)}`,
    )
    assert.ok(refused >= 1, 'the crash was felt: at least one login was refused with 503')
    assert.ok(
      logins.slice(-8).some((l) => l.status === 200),
      'logins succeed again after recovery',
    )
    assert.ok(listed.length <= CAP, `at most ${CAP} sessions listed, got ${listed.length}`)
    assert.equal(rows.rows[0]!.live, listed.length, 'the listing shows every live row, no other')
    // A listed session whose cookie we lack was committed by a login whose answer the crash cut.
    assert.ok(
      listed.length - liveCookies <= refused,
      `${listed.length - liveCookies} listed sessions came from no refused login`,
    )

    // The next logins, one at a time, leave exactly their own sessions: no ghost of the crash.
    const last: string[] = []
    const lastCookies: string[] = []
    for (let i = 0; i < CAP; i++) {
      const res = await send(app.port, { method: 'POST', path: `/login?user=${user}` })
      assert.equal(res.status, 200)
      last.push((JSON.parse(res.body) as { ref: string }).ref)
      lastCookies.push(cookiePair(res, 'sid')!)
    }
    const final = await app.manager.listUserSessions(user)
    assert.deepEqual(final.map((s) => s.ref).sort(), [...last].sort())
    for (const cookie of lastCookies) {
      const res = await send(app.port, { path: '/read', headers: { cookie } })
      assert.equal(JSON.parse(res.body).user, user)
    }
    for (const l of logins.filter((x) => x.status === 200)) {
      const res = await send(app.port, { path: '/read', headers: { cookie: l.cookie ?? '' } })
      assert.equal(JSON.parse(res.body).user, null, 'an evicted session no longer loads')
    }
  })
})
