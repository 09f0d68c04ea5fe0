/**
 * The reference app's administrator page (docs/reference-app.md "Administration"): the admin ends
 * one user's sessions or everyone's (`revokeAllSessions()`), behind fresh authentication and the
 * CSRF token, each action logged; everyone else is refused. Over real HTTP on every store SESSION_STORE
 * can name; Redis and PostgreSQL skip with a reason when unreachable. Time is injected.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import {
  Client,
  formToken,
  HTML,
  newSecret,
  serve,
  serveOn,
  storeSkips,
  tempDir,
  testConfig,
  type Served,
} from './harness.js'

const ADMIN_ID = '3'
const FIVE_MINUTES = 5 * 60_000
const PASSWORDS: Record<string, string> = {
  alice: 'correct-horse',
  bob: 'battery-staple',
  admin: 'correct-horse-admin',
}

async function loggedIn(app: Served, username: string, agent = `${username}-agent`) {
  const client = new Client(app.url, agent)
  assert.equal((await client.login(username, PASSWORDS[username]!)).status, 200, username)
  return client
}

async function status(client: Client, path = '/profile'): Promise<number> {
  return (await client.get(path)).status
}

/** The app's log lines about admin actions. */
function adminLines(app: Served): Array<Record<string, unknown>> {
  return app.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['action'] !== undefined)
}

/** The admin's own sessions are not revoked by the harness (it does users 1 and 2). */
async function serveAdmin(
  t: Parameters<typeof serveOn>[0],
  kind: StoreKind,
  clock = manualClock(Date.now()),
) {
  const held: { app?: Served } = {}
  t.after(() => held.app?.running.sessions.revokeUserSessions(ADMIN_ID))
  held.app = await serveOn(t, kind, { reauthMaxAgeMs: FIVE_MINUTES }, { clock })
  return { app: held.app, clock }
}

const skips = await storeSkips()

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app administration on ${kind}`, { skip: skips[kind] }, () => {
    it("lets the admin end one user's sessions, logged, and no one else's", async (t) => {
      const { app } = await serveAdmin(t, kind)
      const root = await loggedIn(app, 'admin')
      const laptop = await loggedIn(app, 'alice', 'laptop')
      const phone = await loggedIn(app, 'alice', 'phone')
      const bob = await loggedIn(app, 'bob')

      const listing = await root.get('/admin', { accept: 'application/json' })
      assert.equal(listing.status, 200)
      assert.deepEqual(listing.json.users, [
        { userId: '1', username: 'alice', role: 'user', sessions: 2 },
        { userId: '2', username: 'bob', role: 'user', sessions: 1 },
        { userId: ADMIN_ID, username: 'admin', role: 'admin', sessions: 1 },
      ])
      const res = await root.post('/admin/users/alice/revoke')
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true, revoked: 2 })
      assert.equal(await status(laptop), 401)
      assert.equal(await status(phone), 401)
      assert.equal(await status(bob), 200, "bob's session goes on")
      assert.equal(await status(root), 200, "the admin's too")
      assert.equal((await root.post('/admin/users/mallory/revoke')).status, 404)

      const [line, ...more] = adminLines(app)
      assert.deepEqual(more, [])
      assert.equal(line!['action'], 'revoke-user')
      assert.equal(line!['admin'], 'admin')
      assert.equal(line!['target'], 'alice')
      assert.equal(line!['revoked'], 2)
      const cookies = [root, laptop, phone, bob].map((c) => c.cookies.get('sid')!)
      assert.ok(!app.lines.some((l) => cookies.some((c) => l.includes(c))), 'no cookie logged')
    })

    it("ends every session of every user, the admin's own included, with revoke-all", async (t) => {
      const { app, clock } = await serveAdmin(t, kind)
      const laptop = await loggedIn(app, 'alice', 'laptop')
      const bob = await loggedIn(app, 'bob')
      const root = await loggedIn(app, 'admin')
      clock.advance(1)
      const res = await root.post('/admin/revoke-all')
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true, notBefore: clock.now() })
      for (const client of [laptop, bob, root]) assert.equal(await status(client), 401)
      assert.equal(root.cookies.has('sid'), false, "the admin's cookie is cleared")
      const again = await loggedIn(app, 'alice', 'laptop')
      assert.equal(await status(again), 200, 'a login after the switch works')
      const lines = adminLines(app)
      assert.deepEqual(
        lines.map((l) => [l['action'], l['admin'], l['level']]),
        [['revoke-all', 'admin', 40]],
      )
    })

    it('refuses every admin route to a user who is not the admin (403) and to nobody (401)', async (t) => {
      const { app } = await serveAdmin(t, kind)
      const alice = await loggedIn(app, 'alice')
      const bob = await loggedIn(app, 'bob')
      const json = await alice.get('/admin', { accept: 'application/json' })
      assert.equal(json.status, 403)
      assert.equal(json.json.error, 'forbidden')
      assert.equal((await alice.get('/admin', HTML)).status, 403)
      for (const path of ['/admin/revoke-all', '/admin/users/bob/revoke']) {
        assert.equal((await alice.post(path)).status, 403, path)
      }
      assert.equal(await status(bob), 200, 'nothing ended')
      assert.equal(await status(alice), 200)
      assert.equal((await new Client(app.url).get('/admin')).status, 401)
      assert.deepEqual(adminLines(app), [])
    })

    it('sends a stale admin login to /reauth, and refuses its JSON actions until then', async (t) => {
      const { app, clock } = await serveAdmin(t, kind)
      const root = await loggedIn(app, 'admin')
      const bob = await loggedIn(app, 'bob')
      clock.advance(FIVE_MINUTES + 1)
      const page = await root.get('/admin', HTML)
      assert.equal(page.status, 303)
      assert.equal(page.headers.get('location'), '/reauth?next=/admin')
      const stale = await root.post('/admin/users/bob/revoke')
      assert.equal(stale.status, 401)
      assert.deepEqual(stale.json, { error: 'reauth_required' })
      assert.equal((await root.post('/admin/revoke-all')).status, 401)
      assert.equal(await status(bob), 200, 'nothing ended')

      const reauth = await root.get('/reauth?next=/admin', HTML)
      const back = await root.send('POST', '/reauth', {
        form: { _csrf: formToken(reauth.text), password: PASSWORDS['admin']!, next: '/admin' },
        headers: HTML,
      })
      assert.equal(back.headers.get('location'), '/admin')
      const fresh = await root.get('/admin', HTML)
      assert.equal(fresh.status, 200)
      const ended = await root.send('POST', '/admin/users/bob/revoke', {
        form: { _csrf: formToken(fresh.text) },
        headers: HTML,
      })
      assert.equal(ended.status, 303)
      assert.equal(ended.headers.get('location'), '/admin?user=bob&revoked=1')
      assert.match((await root.get('/admin?user=bob&revoked=1', HTML)).text, /1 session of bob/)
      assert.equal(await status(bob), 401)
    })

    it('refuses admin actions without the CSRF token, and from another site', async (t) => {
      const { app } = await serveAdmin(t, kind)
      const root = await loggedIn(app, 'admin')
      const bob = await loggedIn(app, 'bob')
      // <form method="post" action="http://app/admin/revoke-all"> on a page that cannot read the token.
      const noToken = await root.send('POST', '/admin/revoke-all', { json: {} })
      assert.equal(noToken.status, 403)
      assert.equal(noToken.json.error, 'TETHER_CSRF_REJECTED')
      const crossSite = await root.send('POST', '/admin/users/bob/revoke', {
        headers: { origin: 'https://evil.example', 'x-csrf-token': await root.token() },
      })
      assert.equal(crossSite.status, 403)
      assert.equal(await status(bob), 200)
      assert.equal(await status(root), 200)
      assert.deepEqual(adminLines(app), [])
    })
  })
}

describe('reference app administration: pages and the admin class', () => {
  it('shows the admin page and its link to the admin only', async (t) => {
    const { app } = await serveAdmin(t, 'memory')
    const root = await loggedIn(app, 'admin')
    const alice = await loggedIn(app, 'alice')
    const page = await root.get('/admin', HTML)
    assert.match(page.text, /<h1>Administration<\/h1>/)
    assert.match(page.text, /action="\/admin\/users\/alice\/revoke"/)
    assert.match(page.text, /action="\/admin\/revoke-all"/)
    assert.match(page.text, /name="_csrf"/)
    assert.match((await root.get('/profile', HTML)).text, /href="\/admin"/)
    assert.doesNotMatch((await alice.get('/profile', HTML)).text, /href="\/admin"/)
  })

  it('with SESSION_ADMIN_SECRET, refuses an ordinary session of the admin: only an admin session may', async (t) => {
    // One store, two instances: before and after SESSION_ADMIN_SECRET was added.
    const store = new MemoryStore()
    t.after(() => store.close())
    const secrets = [newSecret()]
    const adminClass = { secret: newSecret(), idleTimeoutMs: 600_000, absoluteTimeoutMs: 3_600_000 }
    const before = await serve(t, testConfig('memory', tempDir(t), { secrets }), { store })
    const after = await serve(t, testConfig('memory', tempDir(t), { secrets, adminClass }), {
      store,
    })
    const old = await loggedIn(before, 'admin')
    old.base = after.url
    assert.equal(await status(old), 200, 'the ordinary session goes on')
    const refused = await old.get('/admin', { accept: 'application/json' })
    assert.equal(refused.status, 403)
    assert.match(refused.json.message, /log in again/i)
    const fresh = await loggedIn(after, 'admin')
    assert.equal((await fresh.get('/admin', { accept: 'application/json' })).status, 200)
  })
})
