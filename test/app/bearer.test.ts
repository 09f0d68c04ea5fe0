/**
 * The reference app's JSON API for a client that cannot keep cookies (a mobile app, a CLI):
 * `X-Session-Transport: bearer` at login, the token from `X-Session-Token`, then
 * `Authorization: Bearer` on every route, with no cookie and no CSRF token; cookie clients beside
 * it keep every CSRF check. Over real HTTP on every store.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { Client, serveOn, storeSkips } from './harness.js'

const skips = await storeSkips()

/** A native client: keeps its token itself, sends no cookie and no Origin, ever. */
class NativeClient {
  token: string | undefined
  readonly url: string

  constructor(url: string) {
    this.url = url
  }

  async send(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.token === undefined) headers['x-session-transport'] = 'bearer'
    else headers['authorization'] = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.url + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const issued = res.headers.get('x-session-token')
    if (issued !== null) this.token = issued === '' ? undefined : issued
    const text = await res.text()
    return {
      status: res.status,
      json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      setCookie: res.headers.getSetCookie(),
      issued,
    }
  }
}

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app for header-token clients on ${kind}`, { skip: skips[kind] }, () => {
    it('logs in, reads the profile and sessions, and logs out with Authorization: Bearer alone', async (t) => {
      const app = await serveOn(t, kind)
      const phone = new NativeClient(app.url)
      const login = await phone.send('POST', '/login', {
        username: 'alice',
        password: 'correct-horse',
      })
      assert.equal(login.status, 200)
      assert.deepEqual(login.setCookie, [], 'never a cookie')
      assert.match(login.issued ?? '', /^t1\./)
      const profile = await phone.send('GET', '/profile')
      assert.equal(profile.status, 200)
      assert.equal(profile.json?.['username'], 'alice')
      const sessions = await phone.send('GET', '/sessions')
      assert.equal((sessions.json?.['sessions'] as unknown[]).length, 1)
      // An unsafe route without any CSRF token:
      const logout = await phone.send('POST', '/logout')
      assert.equal(logout.status, 200)
      assert.equal(logout.issued, '')
      assert.equal(phone.token, undefined)
      const after = new NativeClient(app.url)
      after.token = login.issued!
      assert.equal((await after.send('GET', '/profile')).status, 401)
    })

    it('keeps the CSRF checks for a cookie client beside header clients', async (t) => {
      const app = await serveOn(t, kind)
      const browser = new Client(app.url, 'browser-agent')
      assert.equal((await browser.login('alice', 'correct-horse')).status, 200)
      // A cookie request without the session's CSRF token, as a same-site attacker would send:
      const forged = await fetch(app.url + '/logout', {
        method: 'POST',
        headers: { cookie: browser.cookieHeader!, accept: 'application/json' },
      })
      assert.equal(forged.status, 403)
      assert.equal((await browser.get('/profile')).status, 200)
    })

    it('renews a header client token and answers the old one with the new one in the grace window', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, { renewAfterMs: 15 * 60_000 }, { clock: time })
      const phone = new NativeClient(app.url)
      await phone.send('POST', '/login', { username: 'alice', password: 'correct-horse' })
      const first = phone.token!
      time.advance(16 * 60_000)
      const renewed = await phone.send('GET', '/profile')
      assert.equal(renewed.status, 200)
      assert.ok(phone.token !== undefined && phone.token !== first)
      const old = new NativeClient(app.url)
      old.token = first
      const inGrace = await old.send('GET', '/profile')
      assert.equal(inGrace.status, 200)
      assert.equal(inGrace.issued, phone.token)
    })
  })
}
