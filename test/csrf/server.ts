/** A real Express server with Tether and CSRF routes on 127.0.0.1, for the CSRF tests. */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import express from 'express'
import session, { csrfToken, tetherErrorHandler } from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send, type RawResponse } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

export const EVIL = 'https://evil.example'

export async function server(t: TestContext, options: Partial<ExpressSessionOptions> = {}) {
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore())
  const mw = session({
    secret: newSecret(),
    store,
    classes: { admin: { secret: newSecret() } },
    onEvent: (e) => events.push(e),
    ...options,
  })
  const app = express()
  // Before the session: the token check reads the `_csrf` field of the parsed form.
  app.use(express.urlencoded({ extended: false }))
  app.use(mw)
  app.get('/token', function token(req, res) {
    res.json({ token: csrfToken(req) })
  })
  app.get('/visit', function visit(req, res) {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ token: csrfToken(req) })
  })
  app.post('/login/:user', async function login(req, res) {
    const cls = req.query['class']
    await req.session.login(req.params.user, typeof cls === 'string' ? { class: cls } : {})
    res.json({ token: csrfToken(req) })
  })
  app.post('/logout', async function logout(req, res) {
    await req.session.logout()
    res.json({ ok: true })
  })
  app.all('/transfer', function transfer(req, res) {
    res.json({ ok: true, user: req.session.authAge === null ? null : 'someone' })
  })
  app.use(tetherErrorHandler())
  const srv = await listen(app)
  t.after(() => srv.close())
  return {
    ...srv,
    store,
    events,
    /** Reasons of the csrf.rejected events so far. */
    rejected: () => events.filter((e) => e.type === 'csrf.rejected').map((e) => e.reason),
  }
}

export type Server = Awaited<ReturnType<typeof server>>

/** A pre-session token and its nonce cookie, as the login page gets them. */
export async function loginPage(s: Server): Promise<{ token: string; nonce: string }> {
  const res = await send(s.port, { path: '/token' })
  return { token: JSON.parse(res.body).token, nonce: cookiePair(res, 'csrf')! }
}

/** Logs `user` in through the login form (with its pre-session token); the session's cookie and token. */
export async function login(
  s: Server,
  user: string,
  cls?: string,
): Promise<{ cookie: string; token: string }> {
  const page = await loginPage(s)
  const res = await send(s.port, {
    method: 'POST',
    path: `/login/${user}${cls ? `?class=${cls}` : ''}`,
    headers: { cookie: page.nonce, 'x-csrf-token': page.token },
  })
  assert.equal(res.status, 200, res.body)
  return { cookie: cookiePair(res, 'sid')!, token: JSON.parse(res.body).token }
}

export function post(
  s: Server,
  headers: Record<string, string>,
  path = '/transfer',
): Promise<RawResponse> {
  return send(s.port, { method: 'POST', path, headers })
}

/** No event may carry a token, nonce, cookie value or session id (DESIGN "Security events"). */
export function assertNoSecrets(events: TetherEvent[], secrets: string[]): void {
  const json = JSON.stringify(events)
  for (const secret of secrets) {
    const value = secret.includes('=') ? secret.slice(secret.indexOf('=') + 1) : secret
    assert.ok(value.length >= 16, 'a real secret to look for')
    assert.ok(!json.includes(value), 'an event carries a token, cookie or id')
    const id = value.split('.')[3]
    if (value.startsWith('t1.') && id !== undefined)
      assert.ok(!json.includes(id), 'an event carries an id')
  }
}

export function assertRefused(res: RawResponse): void {
  assert.equal(res.status, 403)
  assert.equal(JSON.parse(res.body).error, 'TETHER_CSRF_REJECTED')
}
