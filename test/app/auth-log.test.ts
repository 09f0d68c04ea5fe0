/**
 * Security logging in the reference app (ASVS 16.3.1, 16.3.3): every failed authentication (login,
 * /reauth, the current password on /password) is one log line naming the user, never the password;
 * a signed cookie of an ended session is logged (`session.unknown`); no line ever holds a password
 * or a cookie value.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Client, serveOn, type Served } from './harness.js'

const OLD = 'correct-horse'
const NEW = 'purple-staple-42'
const WRONG = 'wrong-horse-guess'

type Line = Record<string, unknown>

function lines(app: Served): Line[] {
  return app.lines.map((l) => JSON.parse(l) as Line)
}

function failures(app: Served): Line[] {
  return lines(app).filter((l) => l['event'] === 'auth.failed')
}

describe('reference app security log', () => {
  it('logs a failed login as one warning naming the user, never the password', async (t) => {
    const app = await serveOn(t, 'memory')
    const client = new Client(app.url, 'guessing-agent')
    assert.equal((await client.login('alice', WRONG)).status, 401)
    assert.equal((await client.login('nobody', WRONG)).status, 401)
    const [alice, nobody, ...rest] = failures(app)
    assert.deepEqual(rest, [])
    assert.equal(alice?.['level'], 40, 'a warning')
    assert.equal(alice?.['msg'], 'auth.failed')
    assert.equal(alice?.['reason'], 'login')
    assert.equal(alice?.['username'], 'alice')
    assert.equal(alice?.['ip'], '127.0.0.1')
    assert.equal(alice?.['userAgent'], 'guessing-agent')
    assert.equal(alice?.['path'], '/login')
    assert.equal(nobody?.['username'], 'nobody', 'an unknown user is named as typed')
    assert.equal(await new Client(app.url).login('alice', OLD).then((r) => r.status), 200)
    assert.equal(failures(app).length, 2, 'a successful login is no failure')
  })

  it('logs a wrong password on /reauth and a wrong current password on /password, once each', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = new Client(app.url)
    assert.equal((await laptop.login('alice', OLD)).status, 200)
    assert.equal((await laptop.post('/reauth', { password: WRONG })).status, 403)
    const change = await laptop.post('/password', { currentPassword: WRONG, newPassword: NEW })
    assert.equal(change.status, 403)
    const logged = failures(app).map((l) => [l['reason'], l['username'], l['userId'], l['path']])
    assert.deepEqual(logged, [
      ['reauth', 'alice', '1', '/reauth'],
      ['password', 'alice', '1', '/password'],
    ])
  })

  it('logs the signed cookie of a logged-out session when it comes back', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = new Client(app.url)
    assert.equal((await laptop.login('alice', OLD)).status, 200)
    const copy = new Client(app.url)
    for (const [k, v] of laptop.cookies) copy.cookies.set(k, v)
    assert.equal((await laptop.post('/logout')).status, 200)
    assert.equal((await copy.get('/profile')).status, 401)
    const unknown = lines(app).filter((l) => l['event'] === 'session.unknown')
    assert.equal(unknown.length, 1)
    assert.equal(unknown[0]?.['reason'], 'not_found')
  })

  it('never writes a password or a cookie value to the log', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = new Client(app.url)
    const cookies = new Set<string>()
    const keep = () => laptop.cookies.forEach((v) => cookies.add(v))
    await laptop.login('alice', WRONG)
    assert.equal((await laptop.login('alice', OLD)).status, 200)
    keep()
    await laptop.post('/reauth', { password: WRONG })
    await laptop.post('/reauth', { password: OLD })
    keep()
    await laptop.post('/password', { currentPassword: WRONG, newPassword: NEW })
    await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
    keep()
    const stale = new Client(app.url)
    stale.cookies.set('sid', [...cookies][0]!)
    await stale.get('/profile')
    await laptop.post('/logout')
    assert.ok(cookies.size >= 3)
    assert.equal(failures(app).length, 3)
    for (const line of app.lines) {
      for (const password of [OLD, WRONG, NEW]) assert.ok(!line.includes(password), line)
      for (const cookie of cookies) assert.ok(!line.includes(cookie), line)
    }
  })
})
