/**
 * The response hold (src/http/node-hold.ts) on its own, on real node:http responses: what it
 * holds, what it replays, what a failure drops, and that a response without a hold is untouched.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { OutgoingMessage, ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import { holdResponse, installHolds, isHeld, setHeaderHeld } from '../../src/http/node-hold.js'
import { listen, send } from '../helpers/http.js'

installHolds()

/** A commit the test settles by hand. */
function gate(): { promise: Promise<void>; open(): void; fail(err: Error): void } {
  let open: () => void = () => {}
  let fail: (err: Error) => void = () => {}
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

async function serve(t: TestContext, handler: (res: ServerResponse) => void) {
  const srv = await listen((_req, res) => handler(res))
  t.after(() => srv.close())
  return srv
}

describe('response hold', () => {
  it('holds every write until the commit settles, refuses setHeader meanwhile, then replays in order', async (t) => {
    const commit = gate()
    let refused: unknown
    const srv = await serve(t, (res) => {
      holdResponse(res, { beforeHeaders: () => commit.promise, onError: () => {} })
      res.setHeader('X-Before', '1')
      res.write('a')
      try {
        res.setHeader('X-After', '1')
      } catch (err) {
        refused = err
      }
      res.end('b')
      assert.equal(res.headersSent, false, 'nothing left while held')
      setHeaderHeld(res, 'Set-Cookie', ['sid=1'])
      setTimeout(() => commit.open(), 10)
    })
    const res = await send(srv.port)
    assert.equal(res.body, 'ab')
    assert.equal(res.headers['x-before'], '1')
    assert.equal(res.headers['x-after'], undefined)
    assert.deepEqual(res.setCookies, ['sid=1'], 'the commit set its cookie under the hold')
    assert.equal((refused as { code?: string }).code, 'ERR_HTTP_HEADERS_SENT')
  })

  it('drops the held response and its body headers when the commit fails, and lets onError answer', async (t) => {
    const commit = gate()
    const srv = await serve(t, (res) => {
      holdResponse(res, {
        beforeHeaders: () => commit.promise,
        onError: () => {
          res.statusCode = 503
          res.end('unavailable')
        },
      })
      res.setHeader('Content-Length', '2')
      res.setHeader('ETag', '"x"')
      res.setHeader('Cache-Control', 'public, max-age=60')
      res.end('ok')
      commit.fail(new Error('store down (test)'))
    })
    const res = await send(srv.port)
    assert.equal(res.status, 503)
    assert.equal(res.body, 'unavailable')
    assert.equal(res.headers.etag, undefined)
    assert.equal(res.headers['cache-control'], 'no-store')
  })

  it('leaves a response without a hold alone, in the same process', async (t) => {
    // The wrappers are in place (on the prototype), and a response that has no hold goes through them.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called
    assert.notEqual(ServerResponse.prototype.write, OutgoingMessage.prototype.write)
    let threw = false
    const srv = await serve(t, (res) => {
      assert.equal(isHeld(res), false)
      res.end('plain')
      try {
        res.setHeader('X-Late', '1')
      } catch {
        threw = true
      }
    })
    const res = await send(srv.port)
    assert.equal(res.body, 'plain')
    assert.equal(threw, true, "Node's own check still applies")
  })

  it('wraps a response that does not inherit from ServerResponse with its own methods', async () => {
    const calls: string[] = []
    const fake = Object.assign(new EventEmitter(), {
      headersSent: false,
      writeHead: (status: number) => void calls.push(`writeHead ${status}`),
      write: (chunk: string) => void calls.push(`write ${chunk}`),
      end: (chunk: string) => void calls.push(`end ${chunk}`),
      setHeader: (name: string) => void calls.push(`setHeader ${name}`),
      removeHeader: () => {},
    }) as unknown as ServerResponse
    const commit = gate()
    holdResponse(fake, { beforeHeaders: () => commit.promise, onError: () => {} })
    fake.writeHead(201)
    fake.write('a')
    fake.end('b')
    assert.deepEqual(calls, [])
    assert.throws(() => fake.setHeader('X', '1'), { code: 'ERR_HTTP_HEADERS_SENT' })
    setHeaderHeld(fake, 'Set-Cookie', 'sid=1')
    commit.open()
    await commit.promise
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(calls, ['setHeader Set-Cookie', 'writeHead 201', 'write a', 'end b'])
  })
})
