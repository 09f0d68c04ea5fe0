/**
 * Ending sessions in the reference app needs proof (ASVS 7.5.2): revoking one session or all
 * others runs only after a fresh authentication (SESSION_REAUTH_MAX_AGE), as the password change
 * does; JSON clients get 401 `reauth_required`, browsers go to /reauth and come back to /sessions.
 * Over real HTTP on every store; time is injected, nobody waits.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { Client, formToken, HTML, serveOn, storeSkips, type Served } from './harness.js'

const FIVE_MINUTES = 5 * 60_000
const skips = await storeSkips()

async function alice(app: Served, userAgent: string): Promise<Client> {
  const client = new Client(app.url, userAgent)
  assert.equal((await client.login('alice', 'correct-horse')).status, 200)
  return client
}

async function otherRef(client: Client): Promise<string> {
  const { sessions } = (await client.get('/sessions', { accept: 'application/json' })).json as {
    sessions: Array<{ ref: string; current: boolean }>
  }
  return sessions.find((s) => !s.current)!.ref
}

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app revocation needs a fresh login on ${kind}`, { skip: skips[kind] }, () => {
    it('answers 401 reauth_required to a stale login revoking one or all others, until /reauth', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, { reauthMaxAgeMs: FIVE_MINUTES }, { clock: time })
      const laptop = await alice(app, 'laptop-agent')
      const phone = await alice(app, 'phone-agent')
      const ref = await otherRef(laptop)
      time.advance(FIVE_MINUTES + 1)

      for (const path of [`/sessions/${ref}/revoke`, '/sessions/revoke-others']) {
        const stale = await laptop.post(path)
        assert.equal(stale.status, 401, path)
        assert.deepEqual(stale.json, { error: 'reauth_required' })
      }
      assert.equal((await phone.get('/profile')).status, 200, 'nothing revoked')

      assert.equal((await laptop.post('/reauth', { password: 'correct-horse' })).status, 200)
      const res = await laptop.post(`/sessions/${ref}/revoke`)
      assert.deepEqual(res.json, { ok: true, revoked: 1 })
      assert.equal((await phone.get('/profile')).status, 401, 'the phone is logged out')
    })

    it('sends a browser with a stale login to /reauth and back to its sessions', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, { reauthMaxAgeMs: FIVE_MINUTES }, { clock: time })
      const laptop = await alice(app, 'laptop-agent')
      const phone = await alice(app, 'phone-agent')
      time.advance(FIVE_MINUTES + 1)

      const page = await laptop.get('/sessions', HTML)
      const stale = await laptop.send('POST', '/sessions/revoke-others', {
        form: { _csrf: formToken(page.text) },
        headers: HTML,
      })
      assert.equal(stale.status, 303)
      assert.equal(stale.headers.get('location'), '/reauth?next=/sessions')
      assert.equal((await phone.get('/profile')).status, 200, 'nothing revoked')

      const reauth = await laptop.get('/reauth?next=/sessions', HTML)
      const back = await laptop.send('POST', '/reauth', {
        form: { _csrf: formToken(reauth.text), password: 'correct-horse', next: '/sessions' },
        headers: HTML,
      })
      assert.equal(back.headers.get('location'), '/sessions')
      const fresh = await laptop.get('/sessions', HTML)
      const done = await laptop.send('POST', '/sessions/revoke-others', {
        form: { _csrf: formToken(fresh.text) },
        headers: HTML,
      })
      assert.equal(done.headers.get('location'), '/sessions?revoked=1')
      assert.equal((await phone.get('/profile')).status, 401)
    })

    it('lets a stale login end its own session: that is logging out', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, { reauthMaxAgeMs: FIVE_MINUTES }, { clock: time })
      const laptop = await alice(app, 'laptop-agent')
      const { sessions } = (await laptop.get('/sessions', { accept: 'application/json' })).json as {
        sessions: Array<{ ref: string }>
      }
      time.advance(FIVE_MINUTES + 1)
      const res = await laptop.post(`/sessions/${sessions[0]!.ref}/revoke`)
      assert.deepEqual(res.json, { ok: true, revoked: 1 })
      assert.equal((await laptop.get('/profile')).status, 401)
    })
  })
}
