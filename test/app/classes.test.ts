/**
 * The reference app's admin session class (SESSION_ADMIN_SECRET, docs/reference-app.md "Admin
 * sessions"), over real HTTP on every store SESSION_STORE can name; Redis and PostgreSQL skip with
 * a reason when unreachable (and fail under TETHER_REQUIRE_SERVICES=1). Time is injected: an admin
 * session is made idle by advancing the app's clock, never by waiting.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { AppOptions, RunningApp } from '../../app/app.js'
import {
  loadConfig,
  type AdminClassConfig,
  type AppConfig,
  type StoreKind,
} from '../../app/config.js'
import { openStore } from '../../app/stores.js'
import { manualClock } from '../helpers/clock.js'
import { DATABASE_URL, REDIS_URL } from '../helpers/services.js'
import {
  Client,
  newSecret,
  serve,
  serveOn,
  spawnServer,
  storeSkips,
  tempDir,
  testConfig,
  type Served,
} from './harness.js'

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
const JSON_ONLY = { accept: 'application/json' }
const ADMIN_ID = '3'
const ADMIN_PASSWORD = 'correct-horse-admin'
const TEN_MINUTES = 10 * 60_000
/**
 * Past the admin idle timeout, as the store sees it: Tether expires a session touchAfter (60 s by
 * default, docs/options.md) after its idle timeout, so a lazily touched session never ends early.
 */
const ADMIN_IDLE_PASSED = TEN_MINUTES + 60_000 + 1
const ADMIN_NOTICE = /Administrator session \(ends after 10 minutes idle,\s+1 hour at most\)/

/** The admin class as SESSION_ADMIN_SECRET with the default admin timeouts configures it. */
function adminClass(secret = newSecret()): AdminClassConfig {
  return { secret, idleTimeoutMs: TEN_MINUTES, absoluteTimeoutMs: 3_600_000 }
}

/** A client logged in as `username`. */
async function loggedIn(base: string, username: string, password: string): Promise<Client> {
  const client = new Client(base, `${username}-agent`)
  assert.equal((await client.login(username, password)).status, 200, `${username} logs in`)
  return client
}

const admin = (base: string) => loggedIn(base, 'admin', ADMIN_PASSWORD)
const alice = (base: string) => loggedIn(base, 'alice', 'correct-horse')

interface Listed {
  current: boolean
  sessionClass?: string
}

/** GET /sessions as JSON: the user's sessions. */
async function sessionsOf(client: Client): Promise<Listed[]> {
  const res = await client.get('/sessions', JSON_ONLY)
  assert.equal(res.status, 200)
  return res.json.sessions as Listed[]
}

/** The class of the client's own session, as GET /sessions lists it. */
async function classOf(client: Client): Promise<string | undefined> {
  return (await sessionsOf(client)).find((s) => s.current)?.sessionClass
}

async function status(client: Client, path = '/profile'): Promise<number> {
  return (await client.get(path)).status
}

/** The harness revokes alice's and bob's sessions before an app closes; this does admin's. */
async function serveAdminApp(
  t: TestContext,
  kind: StoreKind,
  over: Partial<AppConfig>,
  opts: Omit<AppOptions, 'logStream' | 'namespace'> = {},
): Promise<Served> {
  const held: { app?: Served } = {}
  // Added before serveOn's own hook, so it runs first, while the store is still open.
  t.after(() => held.app?.running.sessions.revokeUserSessions(ADMIN_ID))
  held.app = await serveOn(t, kind, over, opts)
  return held.app
}

/**
 * One store of `kind`, and an app on it for each configuration: several instances of the app
 * sharing its sessions, as behind a load balancer or across a restart. Emptied after the test.
 */
async function serveOnOneStore(
  t: TestContext,
  kind: StoreKind,
  configs: Partial<AppConfig>[],
): Promise<Served[]> {
  const namespace = `t${randomBytes(6).toString('hex')}`
  const dataDir = tempDir(t)
  const opened = await openStore(kind, {
    dataDir,
    redisUrl: REDIS_URL,
    databaseUrl: DATABASE_URL,
    namespace,
  })
  const apps: Served[] = []
  try {
    for (const over of configs) {
      const revokeAll = async (running: RunningApp) => {
        for (const userId of ['1', '2', ADMIN_ID]) await running.sessions.revokeUserSessions(userId)
      }
      const first = apps.length === 0
      const config = testConfig(kind, dataDir, over)
      apps.push(await serve(t, config, { store: opened.store }, first ? revokeAll : undefined))
    }
  } finally {
    // Added after the apps' hooks: runs once they have closed.
    t.after(async function release() {
      await opened.close()
      if (kind === 'postgres') await dropTable(`tether_sessions_${namespace}`)
    })
  }
  return apps
}

async function dropTable(table: string): Promise<void> {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  try {
    await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
  } finally {
    await pool.end()
  }
}

const skips = await storeSkips()

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app admin sessions on ${kind}`, { skip: skips[kind] }, () => {
    it('logs an administrator in to the admin class and alice to the default class', async (t) => {
      const app = await serveAdminApp(t, kind, { adminClass: adminClass() })
      const root = await admin(app.url)
      const user = await alice(app.url)

      assert.deepEqual((await root.get('/profile')).json, { userId: ADMIN_ID, username: 'admin' })
      assert.equal(await classOf(root), 'admin')
      assert.equal(await classOf(user), 'default')
      const listed = await app.running.sessions.listUserSessions(ADMIN_ID)
      assert.deepEqual(
        listed.map((s) => s.sessionClass),
        ['admin'],
        'the store holds it as class admin',
      )

      assert.match((await root.get('/profile', HTML)).text, ADMIN_NOTICE)
      assert.doesNotMatch((await user.get('/profile', HTML)).text, /Administrator session/)
      assert.match(
        (await root.get('/sessions', HTML)).text,
        /<td class="session-class">Administrator</,
      )
      assert.match((await user.get('/sessions', HTML)).text, /<td class="session-class">Standard</)
    })

    it('ends an admin session after 10 minutes idle (plus touchAfter) while alice goes on', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveAdminApp(t, kind, { adminClass: adminClass() }, { clock: time })
      const root = await admin(app.url)
      const user = await alice(app.url)
      time.advance(ADMIN_IDLE_PASSED)
      assert.equal(await status(root), 401, 'the admin class idle timeout')
      assert.equal(await status(user), 200, 'the ordinary idle timeout is 30 minutes')
    })

    it('keeps an administrator in the admin class through a password change', async (t) => {
      const app = await serveAdminApp(t, kind, { adminClass: adminClass() })
      const root = await admin(app.url)
      const res = await root.post('/password', {
        currentPassword: ADMIN_PASSWORD,
        newPassword: 'purple-staple-admin',
      })
      assert.equal(res.status, 200)
      assert.equal(await classOf(root), 'admin', 'the renewed session is still an admin one')
    })

    it('ends every admin session and no other once SESSION_ADMIN_SECRET is removed or changed', async (t) => {
      const secrets = [newSecret()]
      const adminSecret = newSecret()
      const [before, same, removed, changed] = await serveOnOneStore(t, kind, [
        { secrets, adminClass: adminClass(adminSecret) },
        { secrets, adminClass: adminClass(adminSecret) },
        { secrets, adminClass: null },
        { secrets, adminClass: adminClass(newSecret()) },
      ])
      const root = await admin(before!.url)
      const user = await alice(before!.url)
      // Another instance with the same secrets: both sessions are valid there.
      root.base = user.base = same!.url
      assert.equal(await status(root), 200)
      assert.equal(await status(user), 200)
      for (const app of [removed!, changed!]) {
        root.base = user.base = app.url
        assert.equal(await status(root), 401, 'the admin session has ended')
        assert.equal(await status(user), 200, "alice's session goes on")
      }
    })

    it('without SESSION_ADMIN_SECRET logs the administrator in to an ordinary session', async (t) => {
      const config = loadConfig({ DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() })
      assert.ok(config.warnings.some((w) => /^SESSION_ADMIN_SECRET is not set/.test(w)))
      const time = manualClock(Date.now())
      const over = { adminClass: config.adminClass }
      const app = await serveAdminApp(t, kind, over, { clock: time })
      const root = await admin(app.url)
      const listed = await app.running.sessions.listUserSessions(ADMIN_ID)
      assert.deepEqual(
        listed.map((s) => s.sessionClass),
        ['default'],
      )
      assert.doesNotMatch((await root.get('/profile', HTML)).text, /Administrator session/)
      time.advance(ADMIN_IDLE_PASSED)
      assert.equal(await status(root), 200, 'the ordinary idle timeout applies')
    })
  })
}

describe('reference app admin sessions: npm start', () => {
  it('warns once without SESSION_ADMIN_SECRET, and with it logs the administrator in to the admin class', async (t) => {
    const dataDir = tempDir(t)
    const secret = newSecret()
    const without = await spawnServer(t, { DATA_DIR: dataDir, SESSION_SECRET: secret })
    const warnings = without.stdout.filter((l) =>
      /^SESSION_ADMIN_SECRET is not set: admin sessions are not separated/.test(
        String(JSON.parse(l).msg),
      ),
    )
    assert.equal(warnings.length, 1, 'one warning line')
    const root = await admin(without.url)
    assert.equal(await classOf(root), 'default', 'no admin class: the default one')
    await without.stop()

    const env = { DATA_DIR: dataDir, SESSION_SECRET: secret, SESSION_ADMIN_SECRET: newSecret() }
    const withSecret = await spawnServer(t, env)
    assert.ok(!withSecret.stdout.some((l) => /SESSION_ADMIN_SECRET/.test(l)), 'no warning')
    root.base = withSecret.url
    assert.equal(await status(root), 200, 'an ordinary session from before goes on')
    assert.equal(await classOf(root), 'default')
    const fresh = await admin(withSecret.url)
    assert.equal(await classOf(fresh), 'admin')
    assert.match((await fresh.get('/profile', HTML)).text, ADMIN_NOTICE)
    await withSecret.stop()
  })
})
