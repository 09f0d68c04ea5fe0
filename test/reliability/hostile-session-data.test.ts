/**
 * Hostile session data through `req.session`, on every store (issue 13, point 3), generated rather
 * than hand-picked (test/stores/conformance-session-data.ts holds the fixed cases at the manager):
 * - `__proto__`, `constructor`, `prototype` and Object.prototype's names as keys at any depth
 *   round-trip as plain data, and pollute no prototype, through Memory, SQLite, Redis, PostgreSQL;
 * - a value JSON cannot carry (BigInt, cycle, function, symbol, Map, Set, NaN, ±Infinity) at any
 *   depth is refused at commit with TETHER_INVALID_SESSION_DATA, and nothing of that commit is
 *   written, neither the bad key nor the good keys beside it, for a new session or a stored one;
 * - data over `maxSessionBytes` the same, with TETHER_SESSION_TOO_LARGE.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import express, { type ErrorRequestHandler } from 'express'
import fc from 'fast-check'
import session from '../../src/adapters/express/index.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { hostileData, nestedPoison } from '../helpers/session-data-arbitraries.js'
import { spyStore } from '../helpers/spy-store.js'
import {
  openStoreKind,
  storeKindSkips,
  STORE_KINDS,
  type OpenedStore,
  type StoreKind,
} from '../helpers/store-kinds.js'

const MAX_BYTES = 4096
const RUNS = 30

type Data = Record<string, unknown>
const skips = await storeKindSkips()
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort()

/** Every object in `value` has a plain prototype (Object's or Array's), none replaced. */
function plainShapes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== Array.prototype) return false
  return Object.keys(value).every((k) => plainShapes((value as Data)[k]))
}

function pollutionFree(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames)
  assert.equal(({} as Data)['polluted'], undefined)
}

function describeStore(kind: StoreKind): void {
  describe(`hostile session data on ${kind}`, { skip: skips[kind] }, () => {
    let opened: OpenedStore
    let store: ReturnType<typeof spyStore>
    let srv: Awaited<ReturnType<typeof listen>>
    let mw: ReturnType<typeof session>
    /** What the next /write request puts on req.session (the server runs in this process). */
    let planned: Data = {}

    before(async () => {
      opened = await openStoreKind(kind)
      store = spyStore(opened.store)
      mw = session({ secret: newSecret(), store, maxSessionBytes: MAX_BYTES })
      const app = express()
      app.use(mw)
      app.get('/write', (req, res) => {
        for (const [k, v] of Object.entries(planned)) (req.session as unknown as Data)[k] = v
        res.json({ ok: true })
      })
      app.get('/read', (req, res) => {
        const data: Data = {}
        for (const k of Object.keys(req.session))
          if (k.startsWith('k')) data[k] = (req.session as unknown as Data)[k]
        res.json({ data, plain: plainShapes(data) })
      })
      app.use(((err, _req, res, _next) => {
        const e = err as { status?: number; code?: string }
        res.status(e.status ?? 500).json({ code: e.code ?? 'unknown' })
      }) as ErrorRequestHandler)
      srv = await listen(app)
    })

    after(async () => {
      await srv.close()
      await mw.manager.close()
      await opened.close()
    })

    async function write(data: Data, cookie?: string) {
      planned = data
      return send(srv.port, { path: '/write', headers: cookie === undefined ? {} : { cookie } })
    }

    async function read(cookie: string): Promise<{ data: Data; plain: boolean }> {
      const res = await send(srv.port, { path: '/read', headers: { cookie } })
      assert.equal(res.status, 200, res.body)
      return JSON.parse(res.body) as { data: Data; plain: boolean }
    }

    const writes = () => store.calls.create + store.calls.update + store.calls.touch

    it('round-trips __proto__, constructor and prototype keys at any depth as data, polluting nothing', async () => {
      await fc.assert(
        fc.asyncProperty(hostileData, hostileData, async (first, second) => {
          const created = await write(first)
          assert.equal(created.status, 200, created.body)
          const cookie = cookiePair(created, 'sid')!
          const loaded = await read(cookie)
          assert.deepStrictEqual(loaded.data, JSON.parse(JSON.stringify(first)))
          assert.ok(loaded.plain, 'loaded objects keep plain prototypes')
          // The merge path: changed keys written over the stored ones.
          assert.equal((await write(second, cookie)).status, 200)
          const merged = (await read(cookie)).data
          assert.deepStrictEqual(merged, JSON.parse(JSON.stringify({ ...first, ...second })))
          pollutionFree()
        }),
        { numRuns: RUNS },
      )
    })

    it('refuses a value JSON cannot carry, at any depth, with TETHER_INVALID_SESSION_DATA, writing nothing', async () => {
      const stored = await write({ kstored: { a: [1, 2] } })
      const cookie = cookiePair(stored, 'sid')!
      await fc.assert(
        fc.asyncProperty(hostileData, nestedPoison, async (good, bad) => {
          const before = writes()
          // On a stored session: neither the bad key nor the good keys beside it are written.
          const changed = await write({ ...good, kstored: 'changed', kbad: bad }, cookie)
          assert.equal(JSON.parse(changed.body).code, 'TETHER_INVALID_SESSION_DATA', changed.body)
          assert.ok(changed.status < 600 && changed.status >= 400)
          // On a new session: nothing is created, no cookie is sent.
          const fresh = await write({ ...good, kbad: bad })
          assert.equal(JSON.parse(fresh.body).code, 'TETHER_INVALID_SESSION_DATA', fresh.body)
          assert.deepEqual(fresh.setCookies, [])
          assert.equal(writes(), before, 'no store write')
          assert.deepStrictEqual((await read(cookie)).data, { kstored: { a: [1, 2] } })
          pollutionFree()
        }),
        { numRuns: RUNS },
      )
    })

    it(`refuses data over maxSessionBytes with TETHER_SESSION_TOO_LARGE, writing nothing`, async () => {
      const stored = await write({ kstored: 1 })
      const cookie = cookiePair(stored, 'sid')!
      await fc.assert(
        fc.asyncProperty(
          hostileData,
          fc.integer({ min: MAX_BYTES + 1, max: 4 * MAX_BYTES }),
          async (good, size) => {
            const before = writes()
            const big = { ...good, kstored: 2, kbig: 'x'.repeat(size) }
            const changed = await write(big, cookie)
            assert.equal(JSON.parse(changed.body).code, 'TETHER_SESSION_TOO_LARGE', changed.body)
            const fresh = await write(big)
            assert.equal(JSON.parse(fresh.body).code, 'TETHER_SESSION_TOO_LARGE', fresh.body)
            assert.deepEqual(fresh.setCookies, [])
            assert.equal(writes(), before, 'no store write')
            assert.deepStrictEqual((await read(cookie)).data, { kstored: 1 })
          },
        ),
        { numRuns: 10 },
      )
    })
  })
}

for (const kind of STORE_KINDS) describeStore(kind)
