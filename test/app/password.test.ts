/**
 * The reference app's password change, re-authentication (step-up) and context binding
 * (docs/reference-app.md), over real HTTP on every store SESSION_STORE can name; Redis and
 * PostgreSQL skip with a reason when unreachable (and fail under TETHER_REQUIRE_SERVICES=1).
 * Time is injected: a login is made old by advancing the app's clock, never by waiting.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreKind } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { safeNextPath } from '../../app/next-path.js'
import { newPasswordProblem } from '../../app/password-rules.js'
import { Client, serveOn, storeSkips, type Served } from './harness.js'

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
const OLD = 'correct-horse'
const NEW = 'purple-staple-42'
const FIVE_MINUTES = 5 * 60_000

/** A client logged in as alice, with its own User-Agent (one device). */
async function alice(app: Served, userAgent = 'laptop-agent', password = OLD): Promise<Client> {
  const client = new Client(app.url, userAgent)
  assert.equal((await client.login('alice', password)).status, 200)
  return client
}

/** A client holding a copy of `client`'s cookies: the same browser, or whoever stole them. */
function copyOf(client: Client, userAgent = client.userAgent): Client {
  const copy = new Client(client.base, userAgent)
  for (const [k, v] of client.cookies) copy.cookies.set(k, v)
  return copy
}

async function status(client: Client, path: string): Promise<number> {
  return (await client.get(path)).status
}

/** The `_csrf` value of the first form on a page. */
function formToken(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page)
  assert.ok(match, 'the form carries a CSRF token')
  return match[1]!
}

/** Whether a fresh client can log in as alice with `password`. */
async function canLogIn(app: Served, password: string): Promise<boolean> {
  const res = await new Client(app.url, 'checker').login('alice', password)
  assert.ok(res.status === 200 || res.status === 401, `login answered ${res.status}`)
  return res.status === 200
}

const skips = await storeSkips()

for (const kind of Object.keys(skips) as StoreKind[]) {
  describe(`reference app password change on ${kind}`, { skip: skips[kind] }, () => {
    it('changes the password after a fresh login, logs out the other devices and renews this session', async (t) => {
      const app = await serveOn(t, kind)
      const laptop = await alice(app, 'laptop-agent')
      const phone = await alice(app, 'phone-agent')
      const bob = new Client(app.url)
      assert.equal((await bob.login('bob', 'battery-staple')).status, 200)
      const before = copyOf(laptop)

      const res = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true, revoked: 1 })

      assert.equal(await status(phone, '/profile'), 401, 'the other device is logged out')
      assert.equal(await status(bob, '/profile'), 200, "another user's session is untouched")
      assert.deepEqual((await laptop.get('/profile')).json, { userId: '1', username: 'alice' })
      assert.notEqual(laptop.cookies.get('sid'), before.cookies.get('sid'), 'a new cookie')
      assert.equal(await status(before, '/profile'), 401, 'the cookie from before is dead')
      assert.equal(await canLogIn(app, OLD), false, 'the old password no longer logs in')
      assert.equal(await canLogIn(app, NEW), true, 'the new one does')
    })

    it('answers 401 reauth_required once the login is older than SESSION_REAUTH_MAX_AGE, until /reauth', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, { reauthMaxAgeMs: FIVE_MINUTES }, { clock: time })
      const laptop = await alice(app)
      const phone = await alice(app, 'phone-agent')
      time.advance(FIVE_MINUTES + 1)

      const stale = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(stale.status, 401)
      assert.deepEqual(stale.json, { error: 'reauth_required' })
      assert.equal(await status(phone, '/profile'), 200, 'nothing revoked')
      assert.equal(await canLogIn(app, OLD), true, 'password unchanged')

      const wrong = await laptop.post('/reauth', { password: 'wrong-horse' })
      assert.equal(wrong.status, 403)
      assert.equal(wrong.json.error, 'invalid_credentials')
      const again = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(again.status, 401, 'a wrong password does not refresh authentication')

      const reauth = await laptop.post('/reauth', { password: OLD })
      assert.equal(reauth.status, 200)
      assert.deepEqual(reauth.json, { ok: true })
      time.advance(FIVE_MINUTES) // exactly the maximum age since /reauth: still fresh
      const res = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(res.status, 200)
      assert.deepEqual(res.json, { ok: true, revoked: 2 }, "the phone and canLogIn's session")
      assert.equal(await status(phone, '/profile'), 401)
    })

    it('gives the session a new cookie at /reauth and ends the old one, keeping user, data and creation time', async (t) => {
      const time = manualClock(Date.now())
      const app = await serveOn(t, kind, {}, { clock: time })
      const laptop = await alice(app)
      const before = (await laptop.get('/sessions')).json.sessions
      const old = copyOf(laptop)
      time.advance(FIVE_MINUTES + 1)

      assert.equal((await laptop.post('/reauth', { password: OLD })).status, 200)
      assert.notEqual(laptop.cookies.get('sid'), old.cookies.get('sid'), 'a new cookie')
      assert.equal(await status(old, '/profile'), 401, 'the old cookie no longer works')
      assert.deepEqual((await laptop.get('/profile')).json, { userId: '1', username: 'alice' })
      const after = (await laptop.get('/sessions')).json.sessions
      assert.equal(after.length, 1, 'one session listed for the device: the new one')
      assert.notEqual(after[0].ref, before[0].ref)
      assert.equal(after[0].current, true)
      assert.equal(after[0].createdAt, before[0].createdAt, 'the absolute lifetime runs on')
      const change = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(change.status, 200, 'the fresh authentication belongs to the new cookie')
    })

    it('refuses a wrong current password with 403 and changes nothing', async (t) => {
      const app = await serveOn(t, kind)
      const laptop = await alice(app)
      const phone = await alice(app, 'phone-agent')
      const cookie = laptop.cookies.get('sid')
      const res = await laptop.post('/password', {
        currentPassword: 'wrong-horse',
        newPassword: NEW,
      })
      assert.equal(res.status, 403)
      assert.equal(res.json.error, 'invalid_credentials')
      assert.equal(laptop.cookies.get('sid'), cookie, 'same session')
      assert.equal(await status(laptop, '/profile'), 200)
      assert.equal(await status(phone, '/profile'), 200, 'nothing revoked')
      assert.equal(await canLogIn(app, NEW), false)
      assert.equal(await canLogIn(app, OLD), true)
    })

    it('refuses /password and /reauth without the CSRF token', async (t) => {
      const app = await serveOn(t, kind)
      const laptop = await alice(app)
      const phone = await alice(app, 'phone-agent')
      // <form method="post" action="http://app/password"> on a page that cannot read the token.
      const body = { currentPassword: OLD, newPassword: NEW }
      const res = await laptop.send('POST', '/password', { json: body })
      assert.equal(res.status, 403)
      assert.equal(res.json.error, 'TETHER_CSRF_REJECTED')
      const form = await laptop.send('POST', '/password', { form: body, headers: HTML })
      assert.equal(form.status, 403)
      const reauth = await laptop.send('POST', '/reauth', { json: { password: OLD } })
      assert.equal(reauth.status, 403)
      assert.equal(await status(phone, '/profile'), 200, 'nothing revoked')
      assert.equal(await canLogIn(app, OLD), true, 'password unchanged')
    })

    it('SESSION_BINDING=step-up: a session used with another User-Agent must re-authenticate first', async (t) => {
      const app = await serveOn(t, kind, { binding: 'step-up' })
      const laptop = await alice(app, 'laptop-agent')
      const thief = copyOf(laptop, 'thief-agent')
      assert.equal(await status(thief, '/profile'), 200, 'step-up keeps the session')
      const page = await thief.get('/profile', HTML)
      assert.match(page.text, /another browser or network[\s\S]*Confirm it's you/)

      const res = await thief.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(res.status, 401)
      assert.deepEqual(res.json, { error: 'reauth_required' })
      assert.equal(await canLogIn(app, NEW), false)

      assert.equal((await thief.post('/reauth', { password: OLD })).status, 200)
      const changed = await thief.post('/password', { currentPassword: OLD, newPassword: NEW })
      assert.equal(changed.status, 200, 'proven again from here: allowed')
      assert.equal(await canLogIn(app, NEW), true)
    })

    it('SESSION_BINDING=revoke: a session used with another User-Agent ends', async (t) => {
      const app = await serveOn(t, kind, { binding: 'revoke' })
      const laptop = await alice(app, 'laptop-agent')
      assert.equal(await status(laptop, '/profile'), 200)
      const thief = copyOf(laptop, 'thief-agent')
      const res = await thief.get('/profile')
      assert.equal(res.status, 401)
      assert.equal(res.json.error, 'not_logged_in')
      assert.equal(await status(laptop, '/profile'), 401, 'ended for its owner too')
      assert.ok(app.lines.some((l) => JSON.parse(l).event === 'session.binding_mismatch'))
    })
  })
}

describe('reference app password change: rules, pages and limits', () => {
  it('lets a session used with another User-Agent change the password under the default binding (log)', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = await alice(app, 'laptop-agent')
    const elsewhere = copyOf(laptop, 'new-browser-agent')
    const res = await elsewhere.post('/password', { currentPassword: OLD, newPassword: NEW })
    assert.equal(res.status, 200)
    assert.ok(app.lines.some((l) => JSON.parse(l).event === 'session.binding_mismatch'))
  })

  it('refuses a weak new password with 400 and a clear message, and changes nothing', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = await alice(app)
    const phone = await alice(app, 'phone-agent')
    const cases: [string, RegExp][] = [
      ['short-one', /at least 10 characters/],
      [OLD, /differ from the current one/],
      ['alice     ', /not be your username/],
      ['x'.repeat(1025), /at most 1024 characters/],
    ]
    for (const [newPassword, message] of cases) {
      const res = await laptop.post('/password', { currentPassword: OLD, newPassword })
      assert.equal(res.status, 400, newPassword.slice(0, 20))
      assert.equal(res.json.error, 'invalid_new_password')
      assert.match(res.json.message, message)
    }
    const missing = await laptop.post('/password', { currentPassword: OLD })
    assert.equal(missing.status, 400)
    assert.equal(missing.json.error, 'bad_request')
    const token = formToken((await laptop.get('/password', HTML)).text)
    const mismatch = await laptop.send('POST', '/password', {
      form: { _csrf: token, currentPassword: OLD, newPassword: NEW, confirmPassword: NEW + '!' },
      headers: HTML,
    })
    assert.equal(mismatch.status, 400)
    assert.match(mismatch.text, /role="alert">The two new passwords do not match\./)
    assert.doesNotMatch(mismatch.text, new RegExp(NEW), 'no password is put back in the page')
    assert.equal(await status(phone, '/profile'), 200, 'nothing revoked')
    assert.equal(await canLogIn(app, OLD), true)
  })

  it('changes the password through the pages, asking for it again when the login is old', async (t) => {
    const time = manualClock(Date.now())
    const app = await serveOn(t, 'sqlite', {}, { clock: time })
    const browser = await alice(app, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0')
    await alice(app, 'phone-agent')
    const page = await browser.get('/password', HTML)
    assert.equal(page.status, 200)
    for (const [id, name] of [
      ['current-password', 'currentPassword'],
      ['new-password', 'newPassword'],
      ['confirm-password', 'confirmPassword'],
    ]) {
      assert.match(page.text, new RegExp(`<label for="${id}">`), `a label for ${id}`)
      assert.match(page.text, new RegExp(`id="${id}"\\s+name="${name}"`))
    }

    time.advance(FIVE_MINUTES + 1)
    const form = { currentPassword: OLD, newPassword: NEW, confirmPassword: NEW }
    const stale = await browser.send('POST', '/password', {
      form: { ...form, _csrf: formToken(page.text) },
      headers: HTML,
    })
    assert.equal(stale.status, 303)
    assert.equal(stale.headers.get('location'), '/reauth?next=/password')
    const staleGet = await browser.get('/password', HTML)
    assert.equal(staleGet.status, 303, 'the form itself asks first')
    assert.equal(staleGet.headers.get('location'), '/reauth?next=/password')

    const reauthPage = await browser.get('/reauth?next=/password', HTML)
    assert.equal(reauthPage.status, 200)
    assert.match(reauthPage.text, /Confirm it's you/)
    assert.match(reauthPage.text, /<label for="password">Password<\/label>/)
    assert.match(reauthPage.text, /name="next" value="\/password"/)
    const reauth = await browser.send('POST', '/reauth', {
      form: { _csrf: formToken(reauthPage.text), password: OLD, next: '/password' },
      headers: HTML,
    })
    assert.equal(reauth.status, 303)
    assert.equal(reauth.headers.get('location'), '/password')

    const fresh = await browser.get('/password', HTML)
    assert.equal(fresh.status, 200)
    const done = await browser.send('POST', '/password', {
      form: { ...form, _csrf: formToken(fresh.text) },
      headers: HTML,
    })
    assert.equal(done.status, 303)
    assert.equal(done.headers.get('location'), '/profile?password_changed=1')
    const profile = await browser.get('/profile?password_changed=1', HTML)
    assert.match(profile.text, /Your password was changed\. One other session was logged out\./)
    assert.equal(await canLogIn(app, NEW), true)
  })

  it('shows on the profile how long ago the user signed in, with a link to change the password', async (t) => {
    const time = manualClock(Date.now())
    const app = await serveOn(t, 'memory', {}, { clock: time })
    const browser = await alice(app)
    const now = await browser.get('/profile', HTML)
    assert.match(now.text, /Signed in just now\./)
    assert.match(now.text, /<a href="\/password">Change password<\/a>/)
    time.advance(7 * 60_000 + 5_000)
    assert.match((await browser.get('/profile', HTML)).text, /Signed in 7 minutes ago\./)
    assert.match((await browser.get('/sessions', HTML)).text, /href="\/password"/)
  })

  it('does not follow /reauth to another site', async (t) => {
    const app = await serveOn(t, 'memory')
    const browser = await alice(app)
    const evil = [
      '//evil.example',
      'https://evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      'javascript:alert(1)',
      'evil.example',
    ]
    for (const next of evil) {
      const page = await browser.get(`/reauth?next=${encodeURIComponent(next)}`, HTML)
      assert.equal(page.status, 200)
      assert.match(page.text, /name="next" value="\/profile"/, `GET with next=${next}`)
      assert.doesNotMatch(page.text, /evil\.example/)
      const res = await browser.send('POST', '/reauth', {
        form: { _csrf: formToken(page.text), password: OLD, next },
        headers: HTML,
      })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), '/profile', `POST with next=${next}`)
      const viaQuery = await browser.send('POST', `/reauth?next=${encodeURIComponent(next)}`, {
        form: { _csrf: formToken(page.text), password: OLD },
        headers: HTML,
      })
      assert.equal(viaQuery.headers.get('location'), '/profile')
    }
    const token = formToken((await browser.get('/reauth', HTML)).text)
    const ok = await browser.send('POST', '/reauth', {
      form: { _csrf: token, password: OLD, next: '/sessions?revoked=0' },
      headers: HTML,
    })
    assert.equal(ok.headers.get('location'), '/sessions?revoked=0', 'a path of this site is kept')
  })

  it('answers 401 on /password and /reauth without a login', async (t) => {
    const app = await serveOn(t, 'memory')
    const anonymous = new Client(app.url)
    const reauth = await anonymous.send('POST', '/reauth', { json: { password: OLD } })
    assert.equal(reauth.status, 401)
    assert.equal(reauth.json.error, 'not_logged_in')
    const body = { currentPassword: OLD, newPassword: NEW }
    const change = await anonymous.send('POST', '/password', { json: body })
    assert.equal(change.status, 401)
    assert.equal(change.json.error, 'not_logged_in')
    assert.equal((await anonymous.get('/reauth', HTML)).status, 401)
    assert.equal((await anonymous.get('/password', HTML)).status, 401)
    assert.equal(await canLogIn(app, OLD), true)
  })

  it('counts wrong passwords on /password and /reauth with failed logins, per account and address', async (t) => {
    const app = await serveOn(t, 'memory')
    const laptop = await alice(app)
    for (let i = 0; i < 3; i++) {
      const res = await laptop.post('/password', { currentPassword: 'guess', newPassword: NEW })
      assert.equal(res.status, 403)
    }
    for (let i = 0; i < 2; i++) {
      assert.equal((await laptop.post('/reauth', { password: 'guess' })).status, 403)
    }
    const blocked = await laptop.post('/reauth', { password: OLD })
    assert.equal(blocked.status, 429, 'even the right password waits')
    assert.equal(blocked.json.error, 'too_many_attempts')
    assert.ok(Number(blocked.headers.get('retry-after')) > 0)
    const change = await laptop.post('/password', { currentPassword: OLD, newPassword: NEW })
    assert.equal(change.status, 429)
    const login = await new Client(app.url).login('alice', OLD)
    assert.equal(login.status, 429, '/login shares the count')
    assert.equal((await new Client(app.url).login('bob', 'battery-staple')).status, 200)
    const reasons = app.lines
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'ratelimit.blocked')
    assert.deepEqual(
      reasons.map((e) => e.reason),
      ['reauth', 'password', 'login'],
    )
  })
})

describe('reference app password helpers', () => {
  it('accepts only same-site paths as the place to go after /reauth', () => {
    for (const good of ['/', '/password', '/sessions?revoked=1', '/a/b#c', '/%2F%2Fevil.example']) {
      assert.equal(safeNextPath(good), good)
    }
    const bad: unknown[] = [
      undefined,
      42,
      '',
      'password',
      '//evil.example',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      '/\t/evil.example',
      '/\n/evil.example',
      ' /password',
      '/pass word',
      '/ünïcode',
      '/' + 'a'.repeat(600),
    ]
    for (const value of bad) assert.equal(safeNextPath(value), undefined, JSON.stringify(value))
  })

  it('refuses a new password that is short, unchanged, the username or not confirmed', () => {
    const base = { username: 'alexandrina', current: 'old-password-1' }
    assert.equal(newPasswordProblem({ ...base, next: 'new-password-1' }), null)
    assert.equal(newPasswordProblem({ ...base, next: 'ünïcödé-10' }), null, '10 code points')
    assert.match(newPasswordProblem({ ...base, next: 'nine-char' })!, /at least 10/)
    assert.match(newPasswordProblem({ ...base, next: 'old-password-1' })!, /differ/)
    assert.match(newPasswordProblem({ ...base, next: 'Alexandrina' })!, /username/)
    const unconfirmed = { ...base, next: 'new-password-1', confirm: 'new-password-2' }
    assert.match(newPasswordProblem(unconfirmed)!, /do not match/)
  })
})
