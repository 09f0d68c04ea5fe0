/**
 * The reference app's JSON contract (DESIGN.md "Reference app") over real HTTP, on every store
 * SESSION_STORE can name. Redis and PostgreSQL skip with a reason when unreachable (and fail
 * under TETHER_REQUIRE_SERVICES=1). Each test gets its own app, and its own key prefix or table
 * on a shared server, so tests can run alone and in any order.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { loadConfig, type StoreKind } from '../../app/config.js'
import { tamper } from '../helpers/tamper.js'
import {
  Client,
  newSecret as newSecretValue,
  serve,
  serveOn,
  spawnServer,
  storeSkips,
  tempDir,
  testConfig,
  type Served,
} from './harness.js'

const skips = await storeSkips()

/** The app on `kind`, with its own namespace on a shared server, cleaned up after the test. */
function start(t: TestContext, kind: StoreKind): Promise<Served> {
  return serveOn(t, kind)
}

async function loggedIn(app: Served, username = 'alice', ua?: string): Promise<Client> {
  const client = new Client(app.url, ua)
  const password = username === 'alice' ? 'correct-horse' : 'battery-staple'
  assert.equal((await client.login(username, password)).status, 200)
  return client
}

async function loggedInAt(url: string): Promise<Client> {
  const client = new Client(url)
  assert.equal((await client.login('alice', 'correct-horse')).status, 200)
  return client
}

async function sessionsOf(client: Client) {
  const res = await client.get('/sessions', { accept: 'application/json' })
  assert.equal(res.status, 200)
  return res.json.sessions as { ref: string; current: boolean }[]
}

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app JSON contract on ${kind}`, { skip: skips[kind] }, () => {
    it('answers 401 to a wrong password or an unknown user, and 200 {ok,user} to alice', async (t) => {
      const app = await start(t, kind)
      const client = new Client(app.url)
      const wrong = await client.login('alice', 'wrong-horse')
      assert.equal(wrong.status, 401)
      assert.equal(wrong.json.ok, false)
      assert.equal((await client.login('mallory', 'correct-horse')).status, 401)
      assert.equal(client.cookies.size, 0, 'a failed login stores no session')
      const ok = await client.login('alice', 'correct-horse')
      assert.equal(ok.status, 200)
      assert.deepEqual(ok.json, { ok: true, user: { userId: '1', username: 'alice' } })
    })

    it('answers GET /profile with 401 before login and {userId, username} after', async (t) => {
      const app = await start(t, kind)
      const client = new Client(app.url)
      const before = await client.get('/profile')
      assert.equal(before.status, 401)
      assert.equal(before.json.error, 'not_logged_in')
      await client.login('bob', 'battery-staple')
      const after = await client.get('/profile')
      assert.equal(after.status, 200)
      assert.deepEqual(after.json, { userId: '2', username: 'bob' })
    })

    it("lists both of alice's sessions with their fields, marking only the current one", async (t) => {
      const app = await start(t, kind)
      const laptop = await loggedIn(app, 'alice', 'laptop-agent')
      await loggedIn(app, 'alice', 'phone-agent')
      await loggedIn(app, 'bob')
      const sessions = await sessionsOf(laptop)
      assert.equal(sessions.length, 2, "bob's session is not listed")
      assert.deepEqual(
        sessions.map((s) => s.current),
        [true, false],
      )
      for (const s of sessions) {
        assert.deepEqual(Object.keys(s).sort(), [
          'createdAt',
          'current',
          'ip',
          'lastSeenAt',
          'ref',
          'sessionClass',
          'userAgent',
        ])
      }
      assert.deepEqual(
        sessions.map((s) => (s as { userAgent?: string }).userAgent),
        ['laptop-agent', 'phone-agent'],
      )
    })

    it('revokes one session, which is logged out at its next request', async (t) => {
      const app = await start(t, kind)
      const laptop = await loggedIn(app)
      const phone = await loggedIn(app)
      const other = (await sessionsOf(laptop)).find((s) => !s.current)!
      const res = await laptop.post(`/sessions/${other.ref}/revoke`)
      assert.equal(res.status, 200)
      assert.equal(res.json.ok, true)
      assert.equal((await phone.get('/profile')).status, 401)
      assert.equal((await laptop.get('/profile')).status, 200)
      assert.equal((await sessionsOf(laptop)).length, 1)
    })

    it('revokes every other session and keeps the current one', async (t) => {
      const app = await start(t, kind)
      const [a, b, c] = [await loggedIn(app), await loggedIn(app), await loggedIn(app)]
      const bob = await loggedIn(app, 'bob')
      const res = await a.post('/sessions/revoke-others')
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true, revoked: 2 })
      assert.equal((await b.get('/profile')).status, 401)
      assert.equal((await c.get('/profile')).status, 401)
      assert.equal((await a.get('/profile')).status, 200)
      assert.equal((await bob.get('/profile')).status, 200, "another user's session is untouched")
    })

    it('does not let bob revoke a session of alice', async (t) => {
      const app = await start(t, kind)
      const alice = await loggedIn(app)
      const bob = await loggedIn(app, 'bob')
      const [aliceSession] = await sessionsOf(alice)
      const res = await bob.post(`/sessions/${aliceSession!.ref}/revoke`)
      assert.ok(res.status === 404 || res.status === 403, `got ${res.status}`)
      assert.equal((await alice.get('/profile')).status, 200, 'alice is still logged in')
      assert.equal((await sessionsOf(alice)).length, 1)
    })

    it('logs out, and the old cookie no longer works', async (t) => {
      const app = await start(t, kind)
      const client = await loggedIn(app)
      const stolen = new Client(app.url)
      for (const [k, v] of client.cookies) stolen.cookies.set(k, v)
      const res = await client.post('/logout')
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true })
      assert.equal(res.headers.get('clear-site-data'), '"cache", "cookies", "storage"')
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal((await client.get('/profile')).status, 401)
      assert.equal((await stolen.get('/profile')).status, 401, 'the cookie from before is dead')
    })

    it('refuses unsafe requests a browser marks as cross-site, /login included', async (t) => {
      const app = await start(t, kind)
      const client = await loggedIn(app)
      const token = await client.token()
      // <form method="post" action="http://app/logout"> on https://evil.example, auto-submitted.
      const crossSite = { 'x-csrf-token': token, 'sec-fetch-site': 'cross-site' }
      assert.equal((await client.send('POST', '/logout', { headers: crossSite })).status, 403)
      const evilOrigin = { 'x-csrf-token': token, origin: 'https://evil.example' }
      const refused = await client.send('POST', '/sessions/revoke-others', { headers: evilOrigin })
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error, 'TETHER_CSRF_REJECTED')
      // Login CSRF: logging the victim into the attacker's account.
      const victim = new Client(app.url)
      const login = await victim.send('POST', '/login', {
        json: { username: 'bob', password: 'battery-staple' },
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      })
      assert.equal(login.status, 403)
      assert.equal(victim.cookies.size, 0)
      assert.equal((await client.get('/profile')).status, 200, 'still logged in')
    })

    it('refuses an unsafe request on a session without its token, or with a wrong one', async (t) => {
      const app = await start(t, kind)
      const client = await loggedIn(app)
      const other = await loggedIn(app)
      assert.equal((await client.send('POST', '/logout')).status, 403)
      const wrong = { 'x-csrf-token': await other.token() }
      assert.equal((await client.send('POST', '/logout', { headers: wrong })).status, 403)
      assert.equal((await client.get('/profile')).status, 200, 'still logged in')
      // The form field works as well as the header.
      const viaForm = await client.send('POST', '/logout', {
        form: { _csrf: await client.token() },
      })
      assert.equal(viaForm.status, 200)
      assert.equal((await client.get('/profile')).status, 401)
    })
  })
}

describe('reference app: restarts, secrets and the security log', () => {
  it('npm start serves on SQLite with no setup, and a restart keeps everyone logged in', async (t) => {
    const dataDir = tempDir(t)
    const first = await spawnServer(t, { DATA_DIR: dataDir })
    assert.ok(
      first.stdout.some((l) => /SESSION_SECRET is not set/.test(String(JSON.parse(l).msg))),
      'warns about the development secret',
    )
    const alice = new Client(first.url)
    const bob = new Client(first.url)
    assert.equal((await alice.login('alice', 'correct-horse')).status, 200)
    assert.equal((await bob.login('bob', 'battery-staple')).status, 200)
    await first.stop()
    const second = await spawnServer(t, { DATA_DIR: dataDir })
    alice.base = bob.base = second.url
    assert.deepEqual((await alice.get('/profile')).json, { userId: '1', username: 'alice' })
    assert.deepEqual((await bob.get('/profile')).json, { userId: '2', username: 'bob' })
  })

  it('keeps everyone logged in through a secret rotation; removing the old secret ends the rest', async (t) => {
    const dataDir = tempDir(t)
    const [oldSecret, newSecret] = [newSecretValue(), newSecretValue()]
    const before = await serve(t, testConfig('sqlite', dataDir, { secrets: [oldSecret] }))
    const active = await loggedInAt(before.url)
    const idle = await loggedInAt(before.url)
    await before.close()
    // SESSION_SECRET=new, SESSION_SECRET_PREVIOUS=old: nobody is logged out.
    const rotated = await serve(
      t,
      testConfig('sqlite', dataDir, { secrets: [newSecret, oldSecret] }),
    )
    active.base = rotated.url
    assert.equal((await active.get('/profile')).status, 200, 're-signed with the new secret')
    await rotated.close()
    const after = await serve(t, testConfig('sqlite', dataDir, { secrets: [newSecret] }))
    active.base = idle.base = after.url
    assert.equal((await active.get('/profile')).status, 200)
    assert.equal(
      (await idle.get('/profile')).status,
      401,
      'a cookie signed only by the removed secret',
    )
  })

  it('refuses a weak or missing secret in production, saying how to make one', () => {
    const env = { NODE_ENV: 'production', DATA_DIR: '/nonexistent/tether' }
    assert.throws(() => loadConfig({ ...env, SESSION_SECRET: 'keyboard cat' }), {
      name: 'ConfigError',
      message:
        /^SESSION_SECRET is refused: it is a published placeholder.*npx tether-session secret/,
    })
    assert.throws(() => loadConfig({ ...env, SESSION_SECRET: 'tiny-but-random-9f3k' }), {
      name: 'ConfigError',
      message: /SESSION_SECRET is refused: .*at least 32/,
    })
    assert.throws(() => loadConfig(env), {
      name: 'ConfigError',
      message: /^SESSION_SECRET is not set, and NODE_ENV=production .*npx tether-session secret/,
    })
  })

  it('logs each event as one JSON line, never with a cookie, token, id or secret', async (t) => {
    const config = testConfig('memory', tempDir(t))
    const app = await serve(t, config)
    const client = await loggedIn(app)
    const cookie = client.cookies.get('sid')!
    const token = await client.token()
    await client.send('POST', '/logout') // refused: no token
    const forged = new Client(app.url)
    forged.cookies.set('sid', tamper(cookie))
    await forged.get('/profile')
    await client.send('POST', '/logout', { headers: { 'x-csrf-token': token } })
    const events = app.lines.map((l) => JSON.parse(l)).filter((e) => e.event !== undefined)
    assert.deepEqual(
      events.map((e) => e.event),
      ['session.login', 'csrf.rejected', 'token.forged', 'session.destroyed'],
    )
    assert.equal(events[0].userId, '1')
    const id = cookie.split('.')[3]!
    for (const line of app.lines) {
      assert.equal(line.split('\n').length, 2, 'one line per entry')
      for (const secretThing of [cookie, id, token, config.secrets[0]!]) {
        assert.ok(!line.includes(secretThing), `log line leaks a secret value: ${line}`)
      }
    }
  })
})
