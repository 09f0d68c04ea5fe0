/**
 * The example app (examples/express-app) over real HTTP on 127.0.0.1, with its SQLite store in a
 * temporary directory. Imports the app through the package's own name, so `npm run build` first.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { SqliteStore } from 'tether-session/stores/sqlite'
import { createApp } from '../../examples/express-app/app.js'

interface Running {
  url: string
  close(): Promise<void>
}

/** Opens the app on `dbPath` and serves it on port 0; closed by the test's `t.after`. */
async function start(t: TestContext, dbPath: string, secret: string): Promise<Running> {
  const store = new SqliteStore({ path: dbPath })
  const server: Server = createApp({ store, secret }).listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  let closed = false
  async function close(): Promise<void> {
    if (closed) return
    closed = true
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await store.close()
  }
  t.after(close)
  return { url: `http://127.0.0.1:${port}`, close }
}

function tempDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-example-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'sessions.db')
}

/** The `name=value` pair of the session cookie a response set, or undefined. */
function sessionCookie(res: Response): string | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith('sid='))
  return line?.split(';')[0]
}

/** The session id inside a cookie value `t1.<kid>.<createdAt>.<id>.<mac>` (DESIGN "Token format"). */
function idOf(cookie: string): string | undefined {
  return cookie.slice(cookie.indexOf('=') + 1).split('.')[3]
}

async function views(app: Running, cookie?: string): Promise<number> {
  const res = await fetch(app.url + '/', { headers: cookie ? { cookie } : {} })
  assert.equal(res.status, 200)
  const match = /id="views">(\d+)</.exec(await res.text())
  assert.ok(match, 'the page shows the visit counter')
  return Number(match[1])
}

async function me(app: Running, cookie: string): Promise<{ user: string | null; views: number }> {
  const res = await fetch(app.url + '/api/me', { headers: { cookie } })
  assert.equal(res.status, 200)
  return (await res.json()) as { user: string | null; views: number }
}

function login(app: Running, cookie: string, password: string): Promise<Response> {
  return fetch(app.url + '/login', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password }),
  })
}

/** Visits `/` once and returns the session cookie it set. */
async function firstVisit(app: Running): Promise<string> {
  const res = await fetch(app.url + '/')
  assert.equal(res.status, 200)
  const cookie = sessionCookie(res)
  assert.ok(cookie, 'the first visit sets a session cookie')
  return cookie
}

describe('examples/express-app', () => {
  const secret = randomBytes(32).toString('base64url')

  it('counts visits across requests that send the cookie back', async (t) => {
    const app = await start(t, tempDb(t), secret)
    const cookie = await firstVisit(app)
    assert.equal(await views(app, cookie), 2)
    assert.equal(await views(app, cookie), 3)
    assert.equal(await views(app), 1, 'a request without the cookie starts over')
  })

  it('answers 401 to a wrong password and keeps the visitor anonymous', async (t) => {
    const app = await start(t, tempDb(t), secret)
    const cookie = await firstVisit(app)
    const res = await login(app, cookie, 'wrong-horse')
    assert.equal(res.status, 401)
    assert.deepEqual(await res.json(), { ok: false, error: 'wrong username or password' })
    // No new session: any cookie sent back still names the same one.
    assert.equal(idOf(sessionCookie(res) ?? cookie), idOf(cookie))
    assert.equal((await me(app, cookie)).user, null)
  })

  it('logs alice in under a new session id and keeps the session data', async (t) => {
    const app = await start(t, tempDb(t), secret)
    const before = await firstVisit(app)
    const res = await login(app, before, 'correct-horse')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { ok: true, user: 'alice' })
    const after = sessionCookie(res)
    assert.ok(after, 'login sets a new cookie')
    assert.notEqual(idOf(after), idOf(before))
    assert.deepEqual(await me(app, after), { user: 'alice', views: 1 })
    // The pre-login cookie no longer names a session (no fixation).
    assert.deepEqual(await me(app, before), { user: null, views: 0 })
  })

  it('logs in from the HTML form with a redirect to the home page', async (t) => {
    const app = await start(t, tempDb(t), secret)
    const res = await fetch(app.url + '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=correct-horse',
      redirect: 'manual',
    })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/')
    const cookie = sessionCookie(res)
    assert.ok(cookie)
    const page = await fetch(app.url + '/', { headers: { cookie } })
    assert.match(await page.text(), /Logged in as <strong>alice<\/strong>/)
  })

  it('logs out: the cookie is cleared and no longer names a session', async (t) => {
    const app = await start(t, tempDb(t), secret)
    const cookie = sessionCookie(await login(app, await firstVisit(app), 'correct-horse'))
    assert.ok(cookie)
    const res = await fetch(app.url + '/logout', {
      method: 'POST',
      headers: { cookie, accept: 'application/json' },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { ok: true })
    assert.match(res.headers.getSetCookie().join('\n'), /^sid=;.*Expires=Thu, 01 Jan 1970/m)
    assert.deepEqual(await me(app, cookie), { user: null, views: 0 })
  })

  it('accepts the cookie after a restart on the same SQLite file', async (t) => {
    const dbPath = tempDb(t)
    const first = await start(t, dbPath, secret)
    const cookie = sessionCookie(await login(first, await firstVisit(first), 'correct-horse'))
    assert.ok(cookie)
    await first.close()
    const second = await start(t, dbPath, secret)
    assert.deepEqual(await me(second, cookie), { user: 'alice', views: 1 })
  })
})
