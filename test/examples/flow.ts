/**
 * The flow every framework's example (examples/*-app, examples/fetch-route) serves, driven over
 * real HTTP on 127.0.0.1: a visit counter kept by the cookie, login under a new session id,
 * logout clearing the cookie. Each example's test file starts its app and runs this suite.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { SqliteStore } from 'tether-session/stores/sqlite'

export interface Running {
  url: string
}

/** Where each step of the flow is served: `[method, path]`. */
export interface Routes {
  home: [string, string]
  login: [string, string]
  logout: [string, string]
}

const APP_ROUTES: Routes = {
  home: ['GET', '/'],
  login: ['POST', '/login'],
  logout: ['POST', '/logout'],
}

/** A fresh directory, removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-example-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A SqliteStore in a fresh directory, closed after the test. */
export function sqliteStore(t: TestContext): SqliteStore {
  const store = new SqliteStore({ path: join(tempDir(t), 'sessions.db') })
  t.after(() => store.close())
  return store
}

/** The `name=value` pair of the session cookie a response set, or undefined. */
export function sessionCookie(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith('sid='))
    ?.split(';')[0]
}

/** The session id inside a cookie value `t1.<kid>.<createdAt>.<id>.<mac>` (DESIGN "Token format"). */
function idOf(cookie: string): string | undefined {
  return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).split('.')[3]
}

interface Home {
  views: number
  user: string | null
}

/** Runs the flow against the app `start` serves (closed by the test's `t.after`). */
export function describeExampleFlow(
  name: string,
  start: (t: TestContext) => Promise<Running>,
  routes: Routes = APP_ROUTES,
): void {
  function call(app: Running, [method, path]: [string, string], cookie?: string, body?: object) {
    const headers: Record<string, string> = cookie === undefined ? {} : { cookie }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const init: RequestInit = { method, headers }
    if (body !== undefined) init.body = JSON.stringify(body)
    return fetch(app.url + path, init)
  }
  async function home(app: Running, cookie?: string): Promise<Home> {
    const res = await call(app, routes.home, cookie)
    assert.equal(res.status, 200)
    return (await res.json()) as Home
  }
  async function firstVisit(app: Running): Promise<string> {
    const res = await call(app, routes.home)
    assert.deepEqual(await res.json(), { views: 1, user: null })
    const cookie = sessionCookie(res)
    assert.ok(cookie, 'the first visit sets a session cookie')
    return cookie
  }
  async function login(app: Running, cookie: string): Promise<string> {
    const res = await call(app, routes.login, cookie, { username: 'alice' })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { user: 'alice' })
    const after = sessionCookie(res)
    assert.ok(after, 'login sets a new cookie')
    return after
  }

  describe(`examples/${name}`, () => {
    it('counts visits across requests that send the cookie back', async (t) => {
      const app = await start(t)
      const cookie = await firstVisit(app)
      assert.deepEqual(await home(app, cookie), { views: 2, user: null })
      assert.deepEqual(await home(app, cookie), { views: 3, user: null })
      assert.deepEqual(await home(app), { views: 1, user: null }, 'no cookie, a new count')
    })

    it('logs in under a new session id, keeps the count and shows the user', async (t) => {
      const app = await start(t)
      const before = await firstVisit(app)
      const after = await login(app, before)
      assert.notEqual(idOf(after), idOf(before))
      assert.deepEqual(await home(app, after), { views: 2, user: 'alice' })
      // The cookie from before login names no session any more (no fixation).
      assert.deepEqual(await home(app, before), { views: 1, user: null })
    })

    it('refuses a login without a username and keeps the visitor anonymous', async (t) => {
      const app = await start(t)
      const cookie = await firstVisit(app)
      const res = await call(app, routes.login, cookie, {})
      assert.equal(res.status, 400)
      assert.equal(sessionCookie(res), undefined)
      assert.deepEqual(await home(app, cookie), { views: 2, user: null })
    })

    it('logs out: the cookie is cleared and no longer names a session', async (t) => {
      const app = await start(t)
      const cookie = await login(app, await firstVisit(app))
      const res = await call(app, routes.logout, cookie)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { user: null })
      assert.match(res.headers.getSetCookie().join('\n'), /^sid=;.*Expires=Thu, 01 Jan 1970/m)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.deepEqual(await home(app, cookie), { views: 1, user: null })
    })
  })
}
