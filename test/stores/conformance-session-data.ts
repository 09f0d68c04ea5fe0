/**
 * Session data through the manager, the same on every store (DESIGN.md "Session data"): JSON data
 * round-trips exactly through both write paths (create, per-key merge), what JSON cannot keep is
 * refused before any write, and keys such as `__proto__` pollute nothing when loaded back.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import type { SessionManager } from '../../src/core/manager-types.js'
import { spyStore } from '../helpers/spy-store.js'
import { makePatch, type MakeFixture } from './fixtures.js'

/** JSON's view of a value: plain prototypes, -0 as 0 (what every store gives back). */
function asJson(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(asJson)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    // defineProperty: an own `__proto__` key stays a key, as JSON.parse makes it.
    const v = asJson((value as Record<string, unknown>)[key])
    Object.defineProperty(out, key, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** Top-level keys start with `k`, so none is a reserved name; nested keys are any string. */
const jsonData = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 8 }).map((k) => `k${k}`),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
  { maxKeys: 6 },
)

async function loadedData(manager: SessionManager, token: string): Promise<unknown> {
  const { session, rejected } = await manager.load({ token })
  assert.ok(session, `loaded: ${rejected}`)
  return session.record.data
}

function pollutionFree(): void {
  for (const name of ['polluted', 'x']) {
    assert.equal(Object.hasOwn(Object.prototype, name), false, `Object.prototype.${name}`)
  }
}

const NESTED = `{
  "a": {"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}},
        "b": [{"__proto__": {"polluted": 1}, "prototype": 2}]},
  "c": {"d": {"e": {"__proto__": {"x": 1}}}}
}`

export function describeSessionData(fixture: MakeFixture): void {
  it('round-trips random JSON data exactly through commit and load, created and merged (property)', async function jsonRoundTrip(t) {
    const { store, clock } = await fixture(t)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    await fc.assert(
      fc.asyncProperty(jsonData, jsonData, async function roundTrip(first, second) {
        const session = manager.create({})
        await manager.commit(session, {}, { data: first, saveNew: true })
        const token = manager.token(session)
        assert.deepStrictEqual(await loadedData(manager, token), asJson(first))
        await manager.commit(session, {}, { data: second })
        assert.deepStrictEqual(await loadedData(manager, token), asJson(second))
        await manager.destroy(session, {})
      }),
      { numRuns: 25 },
    )
  })

  it('refuses data JSON cannot keep with TETHER_INVALID_SESSION_DATA before any write', async function refused(t) {
    const { store: inner, clock, user } = await fixture(t)
    const store = spyStore(inner)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const session = manager.create({})
    await manager.commit(session, {}, { data: { cart: [1] } })
    const writes = () => store.calls.create + store.calls.update + store.calls.touch
    const before = writes()
    // Each started only when awaited: a refusal is never an unhandled rejection meanwhile.
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => manager.commit(session, {}, { data: { cart: [1, 2n] } }), 'cart[1]'],
      [() => manager.commit(manager.create({}), {}, { data: { seen: new Map() } }), 'seen'],
      [() => manager.commit(session, {}, { data: { cart: [1], save: 1 } }), '"save"'],
      [() => manager.update(session, (d) => ({ ...d, total: NaN }), {}), 'total'],
      [() => manager.login(manager.create({}), { id: 'x' }, user('u'), {}), '"id"'],
    ]
    for (const [work, path] of cases) {
      await assert.rejects(work, function invalid(err: Error & { code?: string }) {
        assert.equal(err.code, 'TETHER_INVALID_SESSION_DATA')
        assert.ok(err.message.includes(`: ${path} `), err.message)
        return true
      })
    }
    assert.equal(writes(), before, 'nothing was written')
    assert.deepEqual({ ...(await inner.get(session.ref))!.data }, { cart: [1] })
  })

  it('keeps __proto__, constructor and prototype keys at any depth as data, polluting nothing', async function nested(t) {
    const { store, clock } = await fixture(t)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const data = JSON.parse(NESTED) as Record<string, unknown>
    const session = manager.create({})
    await manager.commit(session, {}, { data })
    const token = manager.token(session)
    const loaded = (await loadedData(manager, token)) as Record<string, Record<string, unknown>>
    assert.deepStrictEqual(loaded, asJson(data))
    assert.ok(Object.hasOwn(loaded['a']!, '__proto__'), 'an own key, not the prototype')
    assert.equal(Object.getPrototypeOf(loaded['a']), Object.prototype)
    await manager.update(
      session,
      function touchNested(d) {
        ;(d['c'] as Record<string, unknown>)['f'] = 1
      },
      {},
    )
    const updated = (await loadedData(manager, token)) as Record<string, Record<string, unknown>>
    assert.deepStrictEqual(updated['a'], asJson(data['a']))
    assert.equal(updated['c']!['f'], 1)
    pollutionFree()
  })

  it('loads and updates data stored with reserved top-level keys before they were refused', async function legacy(t) {
    const { store, clock } = await fixture(t)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const session = manager.create({})
    await manager.commit(session, {}, { data: { n: 1 } })
    const legacy = JSON.parse('{"__proto__":{"polluted":1},"id":"old","save":1}') as object
    const record = (await store.get(session.ref))!
    await store.update(session.ref, makePatch(record, { set: { ...legacy } }))
    const token = manager.token(session)
    const loaded = (await manager.load({ token })).session!
    assert.ok(Object.hasOwn(loaded.record.data, '__proto__'))
    const updated = await manager.update(
      loaded,
      function increment(d) {
        d['n'] = (d['n'] as number) + 1
      },
      {},
    )
    assert.equal(updated.record.data['n'], 2, 'update(fn) works on such a session')
    // An adapter never shows those keys to the application, so its next commit leaves them out.
    await manager.commit(updated, {}, { data: { n: 2 } })
    assert.deepStrictEqual(await loadedData(manager, token), { n: 2 })
    pollutionFree()
  })
}
