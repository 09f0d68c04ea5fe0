/**
 * Error answers that replace a held response are well-formed HTTP: none of the headers the route
 * set for the body it was going to send survives, so a keep-alive connection stays usable.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express, { type Express } from 'express'
import session, { tetherErrorHandler } from '../../src/adapters/express/index.js'
import type { ExpressSessionOptions } from '../../src/adapters/express/options.js'
import { TetherError } from '../../src/errors.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { listen } from '../helpers/http.js'
import { sendInRow, type KeptResponse } from '../helpers/keep-alive.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

/** Headers a route sets for its body (RFC 9110 representation metadata and validators). */
const ROUTE_HEADERS: Record<string, string> = {
  'Content-Disposition': 'attachment; filename="cart.json"',
  'Content-Language': 'fr',
  'Content-Location': '/cart.json',
  'Last-Modified': 'Wed, 01 Jan 2025 00:00:00 GMT',
  Expires: 'Wed, 01 Jan 2031 00:00:00 GMT',
}

type Mount = (app: Express) => void

/** A store whose every call rejects, counting them. */
function downStore() {
  const store = spyStore(new MemoryStore())
  store.failing = true
  return store
}

/** An app whose route stores `value` in the session and answers a short JSON body. */
async function serve(
  t: TestContext,
  options: Partial<ExpressSessionOptions>,
  value: () => unknown,
  mountErrors: Mount = (app) => app.use(tetherErrorHandler()),
) {
  const app = express()
  app.set('env', 'test') // Express's final handler logs errors to the console outside 'test'
  app.use(session({ secret: newSecret(), ...options }))
  app.get('/cart', function cart(req, res) {
    ;(req.session as unknown as Record<string, unknown>)['cart'] = value()
    for (const [name, v] of Object.entries(ROUTE_HEADERS)) res.setHeader(name, v)
    res.setHeader('Cache-Control', 'public, max-age=3600')
    // res.json sets Content-Type, ETag and Content-Length (8 bytes), then ends: the end is held.
    res.json({ ok: 1 })
  })
  mountErrors(app)
  const srv = await listen(app)
  t.after(() => srv.close())
  return { port: srv.port }
}

/** Two requests on one keep-alive socket; both answered with `status`, each well-formed. */
async function assertTwoWellFormed(port: number, status: number): Promise<KeptResponse[]> {
  const answers = await sendInRow(port, [{ path: '/cart' }, { path: '/cart' }])
  assert.equal(answers[1]!.reusedSocket, true, 'the second request went out on the same socket')
  for (const res of answers) {
    assert.equal(res.status, status)
    const length = res.headers['content-length']
    if (length !== undefined) assert.equal(Number(length), Buffer.byteLength(res.body))
    else assert.equal(res.headers['transfer-encoding'], 'chunked', 'the body is framed')
    assert.equal(res.headers['etag'], undefined, 'no ETag of the dropped body')
    for (const name of Object.keys(ROUTE_HEADERS))
      assert.equal(res.headers[name.toLowerCase()], undefined, `no ${name} of the dropped body`)
    assert.equal(res.headers['cache-control'], 'no-store', 'an error is never cached')
  }
  return answers
}

function assertJsonError(res: KeptResponse, code: string): void {
  assert.match(String(res.headers['content-type']), /^application\/json/)
  assert.equal((JSON.parse(res.body) as { error: string }).error, code)
}

describe('error responses after a failed commit', () => {
  it('answers a store outage at commit with a well-formed 503 on a keep-alive connection', async (t) => {
    const store = downStore()
    const s = await serve(t, { store }, () => [1, 2])
    const answers = await assertTwoWellFormed(s.port, 503)
    for (const res of answers) {
      assertJsonError(res, 'TETHER_STORE_UNAVAILABLE')
      assert.equal(res.headers['retry-after'], '1')
    }
    assert.equal(store.calls.create, 2, 'each request tried to write its session')
  })

  it('answers a session over maxSessionBytes with a well-formed 500 on a keep-alive connection', async (t) => {
    const s = await serve(t, { maxSessionBytes: 100 }, () => 'x'.repeat(200))
    for (const res of await assertTwoWellFormed(s.port, 500))
      assertJsonError(res, 'TETHER_SESSION_TOO_LARGE')
  })

  it('answers session data JSON cannot encode with a well-formed 500 on a keep-alive connection', async (t) => {
    const s = await serve(t, {}, () => [1, 2n])
    for (const res of await assertTwoWellFormed(s.port, 500)) {
      assertJsonError(res, 'TETHER_INVALID_SESSION_DATA')
      assert.match((JSON.parse(res.body) as { message: string }).message, /cart\[1\] is a BigInt/)
    }
  })

  it("leaves nothing stale for Express's own final handler either", async (t) => {
    const store = downStore()
    const s = await serve(
      t,
      { store },
      () => 1,
      function none() {},
    )
    for (const res of await assertTwoWellFormed(s.port, 503))
      assert.match(String(res.headers['content-type']), /^text\/html/)
  })

  it('leaves nothing stale for a handler that only sets the status', async (t) => {
    const store = downStore()
    const s = await serve(
      t,
      { store },
      () => 1,
      function statusOnly(app) {
        app.use(function answer(
          err: { status?: number },
          _req: express.Request,
          res: express.Response,
          _next: express.NextFunction,
        ) {
          res.status(err.status ?? 500).end()
        })
      },
    )
    for (const res of await assertTwoWellFormed(s.port, 503)) assert.equal(res.body, '')
  })
})

describe('tetherErrorHandler', () => {
  it('drops the body headers a route set before passing an error on', async (t) => {
    const app = express()
    app.use(session({ secret: newSecret() }))
    app.get('/cart', function failsLate(_req, res, next) {
      for (const [name, v] of Object.entries(ROUTE_HEADERS)) res.setHeader(name, v)
      res.setHeader('Content-Type', 'text/csv')
      res.setHeader('Content-Length', '3')
      res.setHeader('ETag', '"csv-1"')
      next(new TetherError('TETHER_STORE_UNAVAILABLE', 'the session store is unavailable'))
    })
    app.use(tetherErrorHandler())
    const srv = await listen(app)
    t.after(() => srv.close())
    for (const res of await assertTwoWellFormed(srv.port, 503))
      assertJsonError(res, 'TETHER_STORE_UNAVAILABLE')
  })
})
