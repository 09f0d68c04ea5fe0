import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

describe('response hold', () => {
  it('keeps wrappers that later middleware installs, for streamed responses too', async (t: TestContext) => {
    const app = express()
    app.use(session({ secret: newSecret(), store: new MemoryStore() }))
    let seenBytes = 0
    app.use(function laterWrapper(_req, res: ServerResponse, next) {
      // What on-headers (response-time, morgan) and compression do: wrap on top of the session's hold.
      // eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with .apply(this)
      const writeHead = res.writeHead
      res.writeHead = function stamped(this: ServerResponse, ...args: unknown[]) {
        this.setHeader('X-Stamped', 'yes')
        return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
      }
      // eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with .call(this)
      const write = res.write
      res.write = function counted(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
        seenBytes += String(chunk).length
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
      } as ServerResponse['write']
      next()
    })
    app.get('/stream', (req, res) => {
      ;(req.session as unknown as { n: number }).n = 1
      res.write('a')
      setTimeout(() => {
        res.write('b')
        res.end('c')
      }, 20)
    })
    const srv = await listen(app)
    t.after(() => srv.close())
    const res = await send(srv.port, { path: '/stream' })
    assert.equal(res.body, 'abc')
    assert.equal(res.headers['x-stamped'], 'yes', 'the later writeHead wrapper ran')
    assert.equal(seenBytes, 2, 'the later write wrapper saw the chunks written after release')
    assert.equal(res.setCookies.length, 1, 'and the session cookie was still set first')
  })

  it('holds through wrappers that middleware mounted before the session installs (compression)', async (t: TestContext) => {
    const app = express()
    let wrappedEnds = 0
    app.use(function earlierWrapper(_req, res: ServerResponse, next) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with .apply(this)
      const end = res.end
      res.end = function counted(this: ServerResponse, ...args: unknown[]) {
        wrappedEnds++
        return (end as (...a: unknown[]) => ServerResponse).apply(this, args)
      } as ServerResponse['end']
      next()
    })
    app.use(session({ secret: newSecret(), store: new MemoryStore() }))
    app.get('/count', (req, res) => {
      ;(req.session as unknown as { n: number }).n = 1
      res.end('counted')
    })
    const srv = await listen(app)
    t.after(() => srv.close())
    const res = await send(srv.port, { path: '/count' })
    assert.equal(res.body, 'counted')
    assert.equal(wrappedEnds, 1)
    assert.equal(res.setCookies.length, 1, 'the cookie still went out with the response')
  })

  it('does not clear the new login cookie when a request that started before the login ends after it', async (t: TestContext) => {
    const app = express()
    app.use(session({ secret: newSecret(), store: new MemoryStore() }))
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => (open = resolve))
    app.get('/init', (req, res) => {
      ;(req.session as unknown as { n: number }).n = 1
      res.end()
    })
    app.get('/slow', async (req, res) => {
      await gate
      ;(req.session as unknown as { cart: number[] }).cart = [1]
      res.end('slow')
    })
    app.post('/login', async (req, res) => {
      await req.session.login('alice')
      res.end('in')
    })
    const srv = await listen(app)
    t.after(() => srv.close())
    const cookie = cookiePair(await send(srv.port, { path: '/init' }), 'sid')!
    const slow = send(srv.port, { path: '/slow', headers: { cookie } })
    await new Promise((r) => setTimeout(r, 20))
    const login = await send(srv.port, { method: 'POST', path: '/login', headers: { cookie } })
    assert.ok(cookiePair(login, 'sid'))
    open()
    const late = await slow
    assert.equal(late.status, 200)
    assert.deepEqual(late.setCookies, [], 'no Set-Cookie that would wipe the login cookie')
  })
})
