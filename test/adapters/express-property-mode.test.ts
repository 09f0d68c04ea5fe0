/**
 * The Express adapter puts each request and response in V8's dictionary mode before adding its
 * own properties (src/adapters/express/property-mode.ts). What is checked: the mode itself (read
 * through V8's own %HasFastProperties), that no value, attribute or other property changes, that
 * properties that are not plain data are left alone, and that on a real Express request the
 * session still works and `req.res` / `res.req` still point at each other.
 */
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { describe, it } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { useDictionaryProperties } from '../../src/adapters/express/property-mode.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

setFlagsFromString('--allow-natives-syntax')
// V8's own answer needs its natives syntax, which only compiled source can use: a fixed string.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (
  o: object,
) => boolean

function sample(): Record<string, unknown> {
  return { first: 1, second: { nested: true }, third: 'three' }
}

describe('useDictionaryProperties', () => {
  it('puts the object in dictionary mode and keeps every value', () => {
    const o = sample()
    const second = o['second']
    assert.equal(hasFastProperties(o), true)
    useDictionaryProperties(o, 'second')
    assert.equal(hasFastProperties(o), false)
    assert.equal(o['second'], second, 'the same value, not a copy')
    assert.deepEqual(o, { first: 1, second: { nested: true }, third: 'three' })
    assert.deepEqual(Object.keys(o), ['first', 'third', 'second'], 'only the key order moves')
    assert.deepEqual(Object.getOwnPropertyDescriptor(o, 'second'), {
      value: second,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  })

  it('leaves alone a key that is missing, inherited, an accessor or not plain data', () => {
    const cases: Array<[string, (o: Record<string, unknown>) => void]> = [
      ['missing', () => {}],
      [
        'accessor',
        (o) =>
          Object.defineProperty(o, 'k', { get: () => 1, configurable: true, enumerable: true }),
      ],
      [
        'read-only',
        (o) =>
          Object.defineProperty(o, 'k', {
            value: 1,
            writable: false,
            configurable: true,
            enumerable: true,
          }),
      ],
      [
        'hidden',
        (o) =>
          Object.defineProperty(o, 'k', {
            value: 1,
            writable: true,
            configurable: true,
            enumerable: false,
          }),
      ],
      [
        'fixed',
        (o) =>
          Object.defineProperty(o, 'k', {
            value: 1,
            writable: true,
            configurable: false,
            enumerable: true,
          }),
      ],
    ]
    for (const [what, define] of cases) {
      const o = Object.create({ k: 'inherited' }) as Record<string, unknown>
      define(o)
      o['last'] = true
      const before = Object.getOwnPropertyDescriptor(o, 'k')
      const keys = Object.keys(o)
      useDictionaryProperties(o, 'k')
      assert.equal(hasFastProperties(o), true, `${what}: still fast`)
      assert.deepEqual(Object.getOwnPropertyDescriptor(o, 'k'), before, `${what}: unchanged`)
      assert.deepEqual(Object.keys(o), keys, `${what}: same keys`)
    }
  })
})

describe('Express: requests and responses in dictionary mode', () => {
  for (const path of ['/count', '/plain']) {
    it(`switches both for a request ${path === '/plain' ? 'that never touches its session' : 'with a session'}, and the session still works`, async (t) => {
      const app = express()
      app.use(session({ secret: newSecret(), store: new MemoryStore() }))
      const seen: Array<Record<string, unknown>> = []
      app.get('/count', (req, res) => {
        const s = req.session as unknown as { n?: number }
        s.n = (s.n ?? 0) + 1
        seen.push({
          req: hasFastProperties(req),
          res: hasFastProperties(res),
          linked: req.res === res && res.req === req,
        })
        res.json({ n: s.n })
      })
      app.get('/plain', (req, res) => {
        seen.push({
          req: hasFastProperties(req),
          res: hasFastProperties(res),
          linked: req.res === res && res.req === req,
        })
        res.json({ ok: true })
      })
      const srv = await listen(app)
      t.after(() => srv.close())
      const first = await send(srv.port, { path })
      assert.equal(first.status, 200)
      if (path === '/count') {
        const cookie = cookiePair(first, 'sid')
        assert.ok(cookie !== undefined)
        const second = await send(srv.port, { path, headers: { cookie } })
        assert.deepEqual(JSON.parse(second.body), { n: 2 }, 'the session was stored and read back')
      }
      assert.ok(seen.length > 0)
      for (const s of seen) assert.deepEqual(s, { req: false, res: false, linked: true })
    })
  }
})
