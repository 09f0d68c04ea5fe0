/**
 * examples/fetch-route, a Next.js-style route handler module: its GET, POST and DELETE called
 * with `new Request(...)` as Next.js calls them, and served through node:http for a real client.
 * The module reads SESSIONS_DB and SESSION_SECRET when loaded, as a Next.js app does, so they are
 * set before it is imported. Imports the package by its own name, so `npm run build` first.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { getRequestListener } from '@hono/node-server'
import { listen } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { describeExampleFlow, sessionCookie } from './flow.js'

const dir = mkdtempSync(join(tmpdir(), 'tether-fetch-route-'))
process.env['SESSIONS_DB'] = join(dir, 'sessions.db')
process.env['SESSION_SECRET'] = newSecret()
const { GET, POST, DELETE } = await import('../../examples/fetch-route/route.js')
const { store } = await import('../../examples/fetch-route/session.js')
after(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const URL_ = 'http://localhost:3000/api/session'

describe('examples/fetch-route, called as Next.js calls a route handler', () => {
  it('counts, logs in and logs out through GET, POST and DELETE', async () => {
    const first = await GET(new Request(URL_))
    assert.deepEqual(await first.json(), { views: 1, user: null })
    const anon = sessionCookie(first)!
    const login = await POST(
      new Request(URL_, {
        method: 'POST',
        headers: { cookie: anon, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice' }),
      }),
    )
    assert.deepEqual(await login.json(), { user: 'alice' })
    const cookie = sessionCookie(login)!
    assert.notEqual(cookie, anon)
    const me = await GET(new Request(URL_, { headers: { cookie } }))
    assert.deepEqual(await me.json(), { views: 2, user: 'alice' })
    const out = await DELETE(new Request(URL_, { method: 'DELETE', headers: { cookie } }))
    assert.match(out.headers.getSetCookie()[0] ?? '', /^sid=;/)
    const gone = await GET(new Request(URL_, { headers: { cookie } }))
    assert.deepEqual(await gone.json(), { views: 1, user: null })
  })

  it('answers a cross-site logout with 403 before the handler runs', async () => {
    const first = await POST(
      new Request(URL_, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ username: 'alice' }),
      }),
    )
    const cookie = sessionCookie(first)!
    // fetch('https://victim/api/session', { method: 'DELETE', credentials: 'include' }) elsewhere:
    const res = await DELETE(
      new Request(URL_, {
        method: 'DELETE',
        headers: { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      }),
    )
    assert.equal(res.status, 403)
    assert.equal(((await res.json()) as { error: string }).error, 'TETHER_CSRF_REJECTED')
    const still = await GET(new Request(URL_, { headers: { cookie } }))
    assert.equal(((await still.json()) as { user: string }).user, 'alice')
  })
})

const HANDLERS: Record<string, (request: Request) => Promise<Response>> = { GET, POST, DELETE }

describeExampleFlow(
  'fetch-route, served through node:http',
  async (t) => {
    // What Next.js does for a route module: the handler named by the request's method.
    const listener = getRequestListener(
      (request) => HANDLERS[request.method]?.(request) ?? new Response(null, { status: 405 }),
    )
    const server = await listen((req, res) => void listener(req, res))
    t.after(() => server.close())
    return { url: server.url }
  },
  {
    home: ['GET', '/api/session'],
    login: ['POST', '/api/session'],
    logout: ['DELETE', '/api/session'],
  },
)
