/**
 * The Fetch adapter's own API, beyond the behaviour suite every adapter passes (matrix.test.ts,
 * served through `route()`): the handlers are called with `new Request(...)` as Next.js, Bun and
 * Deno call them. `route()`'s answers, `commit()` on a Response whose headers are immutable,
 * `errorResponse` after a hand-written `load()`, and a form's `_csrf` field.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import {
  createSessions,
  type FetchSession,
  type FetchSessionOptions,
} from '../../src/adapters/fetch/index.js'
import { csrfToken } from '../../src/csrf/index.js'
import { isTetherError } from '../../src/errors.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

const ORIGIN = 'http://app.test'

function setup(t: TestContext, options: Partial<FetchSessionOptions> = {}) {
  const store = spyStore(new MemoryStore())
  t.after(() => store.close?.())
  const sessions = createSessions({ secret: newSecret(), store, ...options })
  return { store, sessions }
}

function post(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return new Request(ORIGIN + path, {
    method: 'POST',
    ...init,
    headers: { 'sec-fetch-site': 'same-origin', ...init.headers },
  })
}

function sid(response: Response): string | undefined {
  return response.headers
    .getSetCookie()
    .find((c) => c.startsWith('sid='))
    ?.split(';')[0]
}

function data(session: FetchSession): Record<string, unknown> {
  return session as unknown as Record<string, unknown>
}

describe('fetch adapter', () => {
  it("route() answers a cross-site refusal itself, with an HTML page for a browser's form post", async (t) => {
    const { store, sessions } = setup(t)
    let ran = false
    const POST = sessions.route(() => {
      ran = true
      return new Response('ok')
    })
    // <form method=post action="http://app.test/login"> on an attacker's page:
    const res = await POST(
      post('/login', {
        headers: { 'sec-fetch-site': 'cross-site', accept: 'text/html,*/*;q=0.8' },
      }),
    )
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.match(await res.text(), /TETHER_CSRF_REJECTED/)
    assert.equal(ran, false)
    assert.equal(store.total(), 0)
  })

  it("route() answers a store failure at commit with 503 instead of the handler's response", async (t) => {
    const { store, sessions } = setup(t)
    const POST = sessions.route((_request, session) => {
      data(session)['a'] = 1
      store.failing = true
      return Response.json({ ok: true }, { headers: { etag: '"v1"' } })
    })
    const res = await POST(post('/'))
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) > 0)
    assert.equal(res.headers.get('etag'), null)
    assert.equal(((await res.json()) as { error: string }).error, 'TETHER_STORE_UNAVAILABLE')
  })

  it("route() passes a route handler's further arguments through and rethrows its own errors", async (t) => {
    const { sessions } = setup(t)
    const GET = sessions.route(
      async (_request, _session, context: { params: Promise<{ id: string }> }) =>
        Response.json(await context.params),
    )
    const res = await GET(new Request(ORIGIN + '/items/7'), {
      params: Promise.resolve({ id: '7' }),
    })
    assert.deepEqual(await res.json(), { id: '7' })
    const broken = sessions.route(() => {
      throw new Error('the handler failed')
    })
    await assert.rejects(broken(new Request(ORIGIN + '/')), { message: 'the handler failed' })
  })

  it('commit() adds the cookie to Response.redirect(), whose headers are immutable', async (t) => {
    const { sessions } = setup(t)
    const session = await sessions.load(post('/login'))
    await session.login('alice')
    const redirect = Response.redirect(ORIGIN + '/', 303)
    assert.throws(() => redirect.headers.set('x', 'y'), TypeError)
    const res = await session.commit(redirect)
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), ORIGIN + '/')
    assert.ok(sid(res))
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const next = await sessions.load(new Request(ORIGIN + '/', { headers: { cookie: sid(res)! } }))
    assert.equal(next.id, session.id, 'the cookie names the logged-in session')
  })

  it('errorResponse() answers what load() refused, and leaves other errors alone', async (t) => {
    const { store, sessions } = setup(t)
    const first = await sessions.load(post('/'))
    data(first)['a'] = 1
    const cookie = sid(await first.commit(new Response('ok')))!
    store.failing = true
    const request = new Request(ORIGIN + '/', { headers: { cookie } })
    const err = await sessions.load(request).then(
      () => assert.fail('load() resolved'),
      (e: unknown) => e,
    )
    assert.ok(isTetherError(err))
    const res = sessions.errorResponse(err, request)!
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) > 0)
    assert.deepEqual(await res.json(), { error: err.code, message: err.message })
    assert.equal(sessions.errorResponse(new Error('not ours'), request), undefined)
  })

  it("accepts a form's _csrf field and leaves the body for the handler to read", async (t) => {
    const { sessions } = setup(t, { csrf: { token: true } })
    const GET = sessions.route((_request, session) => Response.json({ token: csrfToken(session) }))
    const POST = sessions.route(async (request) => {
      const form = await request.formData()
      return Response.json({ name: form.get('name') })
    })
    const issued = await GET(new Request(ORIGIN + '/login'))
    const nonce = issued.headers.getSetCookie()[0]!.split(';')[0]!
    const { token } = (await issued.json()) as { token: string }
    const urlencoded = new URLSearchParams({ _csrf: token, name: 'ann' })
    const multipart = new FormData()
    multipart.set('_csrf', token)
    multipart.set('name', 'ann')
    for (const body of [urlencoded, multipart]) {
      const res = await POST(post('/login', { body, headers: { cookie: nonce } }))
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { name: 'ann' })
    }
    // The same form without the field (a same-site attacker's copy of it):
    const refused = await POST(
      post('/login', { body: new URLSearchParams({ name: 'ann' }), headers: { cookie: nonce } }),
    )
    assert.equal(refused.status, 403)
  })
})
