/**
 * Session renewal in the reference app (docs/security.md "Renewal and reuse detection"), over real
 * HTTP on every store: the cookie rotates while the user stays logged in and sees one session, and
 * a copied cookie used after the owner moved on ends the session for both. Time is injected.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { Client, serveOn, storeSkips } from './harness.js'

const MIN = 60_000
const skips = await storeSkips()

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app session renewal on ${kind}`, { skip: skips[kind] }, () => {
    it('rotates the cookie every SESSION_RENEW_AFTER and keeps the user logged in', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, {}, { clock: time })
      const laptop = new Client(app.url, 'laptop-agent')
      assert.equal((await laptop.login('alice', 'correct-horse')).status, 200)
      const first = laptop.cookies.get('sid')
      const token = await laptop.token()
      time.advance(16 * MIN)
      assert.deepEqual((await laptop.get('/profile')).json, { userId: '1', username: 'alice' })
      assert.notEqual(laptop.cookies.get('sid'), first, 'a new cookie')
      const { sessions } = (await laptop.get('/sessions')).json as {
        sessions: Array<{ current: boolean }>
      }
      assert.deepEqual(
        sessions.map((s) => s.current),
        [true],
        'one session, this one',
      )
      // A CSRF token taken before the renewal still posts after it. (The login is 16 minutes old,
      // so revoking needs the password again first.)
      const reauth = { json: { password: 'correct-horse' }, headers: { 'x-csrf-token': token } }
      assert.equal((await laptop.send('POST', '/reauth', reauth)).status, 200)
      assert.equal((await laptop.post('/sessions/revoke-others', {})).status, 200)
    })

    it('ends the session for both holders when a copied cookie comes back after the owner moved on', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, {}, { clock: time })
      const owner = new Client(app.url, 'laptop-agent')
      assert.equal((await owner.login('alice', 'correct-horse')).status, 200)
      const thief = new Client(app.url, 'laptop-agent')
      for (const [k, v] of owner.cookies) thief.cookies.set(k, v)
      time.advance(16 * MIN)
      assert.equal((await owner.get('/profile')).status, 200) // renewed
      assert.equal((await owner.get('/profile')).status, 200) // the new cookie in use
      time.advance(2 * MIN)
      assert.equal((await thief.get('/profile')).status, 401)
      assert.equal((await owner.get('/profile')).status, 401)
      const revoked = app.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((e) => e['event'] === 'session.revoked')
      assert.equal(revoked.length, 1)
      assert.equal(revoked[0]!['reason'], 'reuse')
    })
  })
}
