/**
 * The reference app's concurrent-logon policy (ASVS 7.1.2; docs/reference-app.md "Concurrent
 * sessions"): at most SESSION_MAX_PER_USER sessions per user (default 10); past it a login is
 * refused (SESSION_LIMIT_POLICY=refuse, the default) with a message saying what to do, as JSON and
 * as the login page, or the oldest session ends (evict-oldest). Over real HTTP on every store.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type StoreKind } from '../../app/config.js'
import { Client, formToken, HTML, newSecret, serveOn, storeSkips, tempDir } from './harness.js'

const skips = await storeSkips()
const REFUSED = /You are logged in on too many devices already\. Log out on one of them/

async function alice(url: string, agent: string): Promise<Client> {
  const client = new Client(url, agent)
  assert.equal((await client.login('alice', 'correct-horse')).status, 200, agent)
  return client
}

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app concurrent-logon limit on ${kind}`, { skip: skips[kind] }, () => {
    it('refuses a login past SESSION_MAX_PER_USER with 409 and says what to do, JSON and page', async (t) => {
      const app = await serveOn(t, kind, { maxSessionsPerUser: 2, sessionLimitPolicy: 'refuse' })
      const laptop = await alice(app.url, 'laptop')
      const phone = await alice(app.url, 'phone')

      const third = new Client(app.url, 'tablet')
      const json = await third.login('alice', 'correct-horse')
      assert.equal(json.status, 409)
      assert.equal(json.json.ok, false)
      assert.equal(json.json.error, 'TETHER_SESSION_LIMIT')
      assert.match(json.json.message, REFUSED)
      assert.equal(third.cookies.has('sid'), false, 'no session for the refused login')

      const form = await third.get('/login', HTML)
      const page = await third.send('POST', '/login', {
        form: { _csrf: formToken(form.text), username: 'alice', password: 'correct-horse' },
        headers: HTML,
      })
      assert.equal(page.status, 409)
      assert.match(page.text, /<h1>Log in<\/h1>/)
      assert.match(page.text, REFUSED)
      assert.match(page.text, /value="alice"/, 'the username is kept')

      assert.equal((await laptop.get('/profile')).status, 200, 'no session ended')
      assert.equal((await phone.get('/profile')).status, 200)
      const refusals = app.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e['reason'] === 'session_limit')
      assert.equal(refusals.length, 2, 'each refused login is logged')
      assert.equal(refusals[0]!['username'], 'alice')

      assert.equal((await phone.post('/logout')).status, 200)
      assert.equal((await third.login('alice', 'correct-horse')).status, 200, 'room again')
    })

    it('ends the oldest session instead under SESSION_LIMIT_POLICY=evict-oldest', async (t) => {
      const over = { maxSessionsPerUser: 2, sessionLimitPolicy: 'evict-oldest' as const }
      const app = await serveOn(t, kind, over)
      const laptop = await alice(app.url, 'laptop')
      const phone = await alice(app.url, 'phone')
      const tablet = await alice(app.url, 'tablet')
      assert.equal((await laptop.get('/profile')).status, 401, 'the oldest session ended')
      assert.equal((await phone.get('/profile')).status, 200)
      assert.equal((await tablet.get('/profile')).status, 200)
    })
  })
}

describe('reference app concurrent-logon settings', () => {
  function config(env: Record<string, string>) {
    return loadConfig({ DATA_DIR: 'unused', SESSION_SECRET: newSecret(), ...env })
  }

  it('defaults to 10 sessions per user and refusing the next login', (t) => {
    const c = loadConfig({ DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() })
    assert.equal(c.maxSessionsPerUser, 10)
    assert.equal(c.sessionLimitPolicy, 'refuse')
  })

  it('reads SESSION_MAX_PER_USER (a count, or off) and SESSION_LIMIT_POLICY', () => {
    assert.equal(config({ SESSION_MAX_PER_USER: '3' }).maxSessionsPerUser, 3)
    assert.equal(config({ SESSION_MAX_PER_USER: 'off' }).maxSessionsPerUser, null)
    const evict = config({ SESSION_LIMIT_POLICY: 'evict-oldest' })
    assert.equal(evict.sessionLimitPolicy, 'evict-oldest')
  })

  it('stops startup naming the variable for a bad value', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ SESSION_MAX_PER_USER: '0' }, /^SESSION_MAX_PER_USER must be a whole number from 1/],
      [{ SESSION_MAX_PER_USER: 'ten' }, /^SESSION_MAX_PER_USER must be a whole number from 1/],
      [
        { SESSION_LIMIT_POLICY: 'evict' },
        /^SESSION_LIMIT_POLICY must be one of refuse, evict-oldest; got "evict"/,
      ],
    ]
    for (const [env, message] of cases) {
      assert.throws(
        () => config(env),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError)
          assert.match(err.message, message)
          return true
        },
      )
    }
  })
})
