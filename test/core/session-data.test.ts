/**
 * Session data follows JSON (DESIGN.md "Session data"): what JSON keeps round-trips, what it would
 * lose or cannot encode is refused at commit, naming the key path and never the value, before
 * anything is written.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import { isTetherError } from '../../src/errors.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

/** Marks values: no refusal message may contain it. */
const MARK = 'val-ue!'

function setup() {
  const store = spyStore(new MemoryStore())
  const manager = createSessionManager({ secret: newSecret(), store })
  return { store, manager }
}

/** Writes the store received: none may happen for refused data. */
function writes(store: ReturnType<typeof setup>['store']): number {
  const { create, update, touch, destroy } = store.calls
  return create + update + touch + destroy
}

/** Asserts `work` fails with TETHER_INVALID_SESSION_DATA naming `path` and none of the values. */
async function assertRefused(work: Promise<unknown>, path: string, reason?: RegExp) {
  await assert.rejects(work, function refused(err: unknown) {
    assert.ok(isTetherError(err), `a TetherError, got ${String(err)}`)
    assert.equal(err.code, 'TETHER_INVALID_SESSION_DATA')
    assert.equal(err.status, 500)
    assert.ok(err.message.includes(`: ${path} `), `names ${path}: ${err.message}`)
    assert.ok(!err.message.includes(MARK), `never the value: ${err.message}`)
    if (reason !== undefined) assert.match(err.message, reason)
    return true
  })
}

class Account {
  secret = MARK
}

function cyclic(): unknown {
  const node: Record<string, unknown> = { label: MARK }
  node['self'] = node
  return node
}

/** Unsafe values, each with the path suffix at which the refusal is reported. */
const UNSAFE: Array<{ kind: string; make: () => unknown; at?: string; reason: RegExp }> = [
  { kind: 'a BigInt', make: () => 12345678901234567890n, reason: /BigInt/ },
  { kind: 'a function', make: () => function valueFn() {}, reason: /function/ },
  { kind: 'a symbol', make: () => Symbol(MARK), reason: /symbol/ },
  { kind: 'a Map', make: () => new Map([[MARK, MARK]]), reason: /Map/ },
  { kind: 'a Set', make: () => new Set([MARK]), reason: /Set/ },
  { kind: 'a WeakMap', make: () => new WeakMap(), reason: /WeakMap/ },
  { kind: 'a class instance', make: () => new Account(), reason: /Account/ },
  { kind: 'an Error', make: () => new Error(MARK), reason: /Error/ },
  { kind: 'a Uint8Array', make: () => new Uint8Array([1, 2]), reason: /Uint8Array/ },
  { kind: 'NaN', make: () => NaN, reason: /NaN/ },
  { kind: 'Infinity', make: () => Infinity, reason: /Infinity/ },
  { kind: '-Infinity', make: () => -Infinity, reason: /Infinity/ },
  { kind: 'an invalid Date', make: () => new Date(NaN), reason: /invalid Date/ },
  { kind: 'a cycle', make: cyclic, at: '.self', reason: /cycle/ },
  {
    kind: 'a symbol key',
    make: () => ({ [Symbol('theme')]: MARK, ok: 1 }),
    at: '[Symbol(theme)]',
    reason: /symbol key/,
  },
  { kind: 'a BigInt from toJSON', make: () => ({ toJSON: () => 10n }), reason: /BigInt/ },
]

describe('session data at commit', () => {
  for (const { kind, make, at = '', reason } of UNSAFE) {
    it(`refuses ${kind} with TETHER_INVALID_SESSION_DATA naming its key path, writing nothing`, async () => {
      const s = setup()
      const session = s.manager.create({})
      const data = { cart: { items: [{ price: 1 }, { price: 2 }, { price: make() }] }, n: 1 }
      await assertRefused(
        s.manager.commit(session, {}, { data }),
        `cart.items[2].price${at}`,
        reason,
      )
      assert.equal(writes(s.store), 0)
      assert.equal(session.isNew, true, 'the session is as it was')
    })
  }

  it('refuses a changed key of a stored session and leaves the stored data as it was', async () => {
    const s = setup()
    const session = s.manager.create({})
    await s.manager.commit(session, {}, { data: { n: 1, tags: ['a'] } })
    const before = writes(s.store)
    const data = { n: 2, tags: new Set(['a', 'b']) }
    await assertRefused(s.manager.commit(session, {}, { data }), 'tags')
    assert.equal(writes(s.store), before)
    assert.deepEqual({ ...(await s.store.get(session.ref))!.data }, { n: 1, tags: ['a'] })
  })

  it('quotes keys that are not identifiers in the path', async () => {
    const s = setup()
    const data = { 'my cart': { 'line "1"': [0, { due: NaN }] } }
    await assertRefused(
      s.manager.commit(s.manager.create({}), {}, { data }),
      '["my cart"]["line \\"1\\""][1].due',
    )
  })

  it('keeps what JSON keeps: Date and Buffer through toJSON, undefined dropped, -0 as 0', async () => {
    const s = setup()
    const session = s.manager.create({})
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5))
    const data = {
      when,
      bytes: Buffer.from('hi'),
      gone: undefined,
      list: [1, undefined, 'x'],
      bare: Object.assign(Object.create(null) as object, { a: 1 }),
      // A toJSON method decides, as in JSON: its result is what is stored.
      own: { toJSON: () => ({ kept: true }) },
      zero: -0,
      nested: { deeper: { n: null } },
    }
    await s.manager.commit(session, {}, { data })
    const loaded = await s.manager.load({ token: s.manager.token(session) })
    assert.deepStrictEqual(loaded.session?.record.data, {
      when: when.toISOString(),
      bytes: { type: 'Buffer', data: [104, 105] },
      list: [1, null, 'x'],
      bare: { a: 1 },
      own: { kept: true },
      zero: 0,
      nested: { deeper: { n: null } },
    })
  })

  it('refuses data that is not a plain object', async () => {
    const s = setup()
    for (const data of [new Map(), [1, 2]]) {
      await assert.rejects(s.manager.commit(s.manager.create({}), {}, { data: data as never }), {
        code: 'TETHER_INVALID_SESSION_DATA',
      })
    }
    assert.equal(writes(s.store), 0)
  })
})

describe('reserved names', () => {
  const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'id']
  for (const name of [...names, 'cookie', 'save', 'regenerate']) {
    it(`refuses "${name}" as a top-level key at commit, naming it`, async () => {
      const s = setup()
      const data = JSON.parse(`{"n":1,${JSON.stringify(name)}:"${MARK}"}`) as Record<
        string,
        unknown
      >
      await assertRefused(
        s.manager.commit(s.manager.create({}), {}, { data }),
        JSON.stringify(name),
        /reserved/,
      )
      assert.equal(writes(s.store), 0)
    })
  }

  it('refuses "id" set inside update(fn) before anything is written', async () => {
    const s = setup()
    const session = s.manager.create({})
    await s.manager.commit(session, {}, { data: { n: 1 } })
    const before = writes(s.store)
    const update = s.manager.update(
      session,
      function setId(data) {
        data['id'] = MARK
      },
      {},
    )
    await assertRefused(update, '"id"', /reserved/)
    assert.equal(writes(s.store), before)
  })

  it("refuses update(fn)'s unsafe result and a result that is not an object", async () => {
    const s = setup()
    const session = s.manager.create({})
    await s.manager.commit(session, {}, { data: { n: 1 } })
    const before = writes(s.store)
    await assertRefused(
      s.manager.update(session, () => ({ n: 2, big: 2n }), {}),
      'big',
    )
    await assert.rejects(s.manager.update(session, (() => 5) as never, {}), {
      code: 'TETHER_INVALID_SESSION_DATA',
    })
    assert.equal(writes(s.store), before)
  })

  it('refuses reserved names and unsafe values in login data before anything is written', async () => {
    const s = setup()
    const session = s.manager.create({})
    await assertRefused(s.manager.login(session, { cookie: 1 }, 'alice', {}), '"cookie"')
    await assertRefused(s.manager.login(session, { n: () => 1 }, 'alice', {}), 'n')
    assert.equal(writes(s.store), 0)
  })

  it('allows those names below the top level, as plain data', async () => {
    const s = setup()
    const session = s.manager.create({})
    const prefs = JSON.parse('{"__proto__":{"x":1},"constructor":"c","id":7,"save":true}') as object
    await s.manager.commit(session, {}, { data: { prefs } })
    const loaded = await s.manager.load({ token: s.manager.token(session) })
    const got = loaded.session!.record.data['prefs'] as Record<string, unknown>
    assert.ok(Object.hasOwn(got, '__proto__'))
    assert.deepStrictEqual(got, prefs)
    assert.equal(({} as Record<string, unknown>)['x'], undefined)
  })
})

/** Key segments of a path: array indices and identifier keys. */
const segment = fc.oneof(fc.nat({ max: 3 }), fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,6}$/))

/** `value` placed at `segments` under JSON `filler` siblings, and the path it is reported at. */
function plant(segments: Array<number | string>, value: unknown, filler: unknown): unknown {
  if (segments.length === 0) return value
  const [head, ...rest] = segments
  const child = plant(rest, value, filler)
  if (typeof head === 'number') return [...Array.from({ length: head }, () => filler), child]
  const node: Record<string, unknown> = { z_before: filler }
  Object.defineProperty(node, head!, { value: child, enumerable: true, writable: true })
  return node
}

function pathOf(top: string, segments: Array<number | string>): string {
  return segments.reduce<string>(
    (path, s) => (typeof s === 'number' ? `${path}[${s}]` : `${path}.${s}`),
    top,
  )
}

describe('session data (property)', () => {
  it('refuses any unsafe value anywhere in JSON data, naming its key path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^k[a-z0-9]{0,6}$/),
        fc.array(segment, { maxLength: 4 }),
        fc.constantFrom(...UNSAFE),
        fc.jsonValue({ maxDepth: 2 }),
        async (top, segments, unsafe, filler) => {
          const s = setup()
          const data = { a_first: filler, [top]: plant(segments, unsafe.make(), filler) }
          const path = pathOf(top, segments) + (unsafe.at ?? '')
          await assertRefused(s.manager.commit(s.manager.create({}), {}, { data }), path)
          assert.equal(writes(s.store), 0)
        },
      ),
      { numRuns: 300 },
    )
  })
})
