import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import { MemoryStore } from '../../src/stores/memory.js'
import type { MemoryStoreOptions } from '../../src/stores/memory.js'
import type { SessionRecord, SessionStore } from '../../src/stores/types.js'
import { describeStoreConformance, makePatch, makeRecord } from './conformance.js'
import { IDLE_MS, listedKeys, T0 } from './fixtures.js'
import type { ManualClock } from './fixtures.js'

describeStoreConformance('MemoryStore', function openMemoryStore(clock) {
  const store = new MemoryStore({ clock })
  return Promise.resolve({ store, close: store.close.bind(store) })
})

function manualClock(): ManualClock {
  return {
    t: T0,
    now() {
      return this.t
    },
  }
}

/** Three logged-in sessions a, b, c created in that order in a store of 3; a and b are user u's. */
async function fullStore(t: TestContext) {
  const clock = manualClock()
  const store = new MemoryStore({ maxEntries: 3, clock })
  t.after(store.close.bind(store))
  await store.create('a', makeRecord({ userId: 'u' }))
  await store.create('b', makeRecord({ userId: 'u' }))
  await store.create('c', makeRecord({ userId: 'v' }))
  return { store, clock }
}

/** A logged-in session, as `login()` stores it. */
function loggedIn(): SessionRecord {
  return makeRecord({ userId: 'w' })
}

const USES: Array<[string, (store: SessionStore, key: string) => Promise<unknown>]> = [
  [
    'get',
    function useByGet(store, key) {
      return store.get(key)
    },
  ],
  [
    'touch',
    function useByTouch(store, key) {
      return store.touch(key, { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 1 + IDLE_MS })
    },
  ],
  [
    'update',
    function useByUpdate(store, key) {
      // The patch is computed from the record as stored (user 'u', as fullStore creates it).
      return store.update(key, makePatch(makeRecord({ userId: 'u' }), { set: { used: true } }))
    },
  ],
]

describe('MemoryStore', function memoryStore() {
  it('evicts the least recently used logged-in session beyond maxEntries', async function lru(t) {
    const { store } = await fullStore(t)
    await store.create('d', loggedIn())
    assert.equal(store.size, 3)
    assert.equal(await store.get('a'), null)
    for (const key of ['b', 'c', 'd']) assert.notEqual(await store.get(key), null)
  })

  it('removes an evicted session from the user index', async function lruIndex(t) {
    const { store } = await fullStore(t)
    await store.create('d', loggedIn())
    assert.deepEqual(store['byUser'].get('u'), new Set(['b']))
    await store.create('e', loggedIn())
    assert.equal(store['byUser'].has('u'), false)
    assert.deepEqual(await store.destroyByUser('u'), [])
  })

  for (const [name, use] of USES) {
    it(`counts ${name} as a use when choosing what to evict`, async function recentUse(t) {
      const { store } = await fullStore(t)
      await use(store, 'a')
      await store.create('d', loggedIn())
      assert.equal(await store.get('b'), null)
      assert.notEqual(await store.get('a'), null)
    })
  }

  it('evicts anonymous sessions before logged-in ones, least recently used first', async function anonymousFirst(t) {
    const store = new MemoryStore({ maxEntries: 3, clock: manualClock() })
    t.after(store.close.bind(store))
    await store.create('user', loggedIn())
    await store.create('b', makeRecord())
    await store.create('c', makeRecord())
    await store.get('b')
    await store.create('d', makeRecord())
    assert.equal(await store.get('c'), null, 'the least recently used anonymous session goes')
    await store.create('e', makeRecord({ userId: 'v' }))
    assert.equal(await store.get('b'), null, 'a login evicts an anonymous session too')
    for (const key of ['user', 'd', 'e']) assert.notEqual(await store.get(key), null, key)
    assert.equal(store.size, 3)
  })

  it('keeps a logged-in session through a flood of anonymous sessions past the bound', async function flood(t) {
    const store = new MemoryStore({ clock: manualClock() }) // the default bound, 10,000
    t.after(store.close.bind(store))
    await store.create('user', loggedIn())
    for (let i = 0; i < 12_000; i++) await store.create(`anon-${i}`, makeRecord())
    assert.equal(store.size, 10_000)
    assert.notEqual(await store.get('user'), null, 'the logged-in session survives')
    assert.deepEqual(await listedKeys(store, 'w'), ['user'])
    assert.equal(await store.get('anon-2000'), null, 'the oldest anonymous sessions went')
    assert.notEqual(await store.get('anon-2001'), null)
  })

  it('keeps logged-in sessions over a new anonymous one when they fill the store', async function full(t) {
    const { store } = await fullStore(t)
    await store.create('anon', makeRecord())
    assert.equal(await store.get('anon'), null, 'the new anonymous session is the one evicted')
    for (const key of ['a', 'b', 'c']) assert.notEqual(await store.get(key), null, key)
  })

  it('still evicts renewal markers before any session', async function markersFirst(t) {
    const store = new MemoryStore({ maxEntries: 2, clock: manualClock() })
    t.after(store.close.bind(store))
    await store.create('anon', makeRecord())
    await store.create('marker', makeRecord({ rotatedTo: 'next' }))
    await store.create('user', loggedIn())
    assert.equal(await store.get('marker'), null)
    assert.notEqual(await store.get('anon'), null)
  })

  it('sweeps expired sessions out of memory and the user index', async function sweep(t) {
    const clock = manualClock()
    const store = new MemoryStore({ clock })
    t.after(store.close.bind(store))
    await store.create('short', makeRecord({ userId: 'u', idleExpiresAt: T0 + 1000 }))
    await store.create('long', makeRecord({ userId: 'v' }))
    clock.t = T0 + 1000
    assert.equal(store.sweep(), 1)
    assert.equal(store.size, 1)
    assert.equal(store['byUser'].has('u'), false)
    clock.t = T0
    assert.equal(await store.get('short'), null)
    assert.deepEqual(await listedKeys(store, 'v'), ['long'])
  })

  it('sweeps expired "not before" marks out of memory too (sealed mode keeps one per logout)', async function sweepMarks(t) {
    const clock = manualClock()
    const store = new MemoryStore({ clock })
    t.after(store.close.bind(store))
    await store.setNotBefore('session:a', T0 + 1000, T0 + 1000)
    await store.setNotBefore('session:b', T0 + 5000, T0 + 5000)
    clock.t = T0 + 1000
    store.sweep()
    assert.equal(store['notBefore'].size, 1)
    assert.equal(await store.getNotBefore('session:b'), T0 + 5000)
  })

  it('runs its sweep timer unref-ed and stops it on close', async function timer(t) {
    const store = new MemoryStore()
    t.after(store.close.bind(store))
    assert.equal(store['timer']?.hasRef(), false)
    await store.close()
    assert.equal(store['timer'], undefined)
  })

  it('rejects a maxPerUser that is not a positive integer', async function badMaxPerUser(t) {
    const store = new MemoryStore()
    t.after(store.close.bind(store))
    await assert.rejects(store.create('s', makeRecord({ userId: 'u' }), { maxPerUser: 0 }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"maxPerUser" must be a positive integer; got 0',
    })
    assert.equal(await store.get('s'), null)
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    [
      'maxEntries 0',
      { maxEntries: 0 },
      /^"maxEntries" must be a positive integer; got 0\. Omit it for 10000\.$/,
    ],
    ['maxEntries 1.5', { maxEntries: 1.5 }, /^"maxEntries" .* got 1\.5\./],
    ['maxEntries "10"', { maxEntries: '10' }, /^"maxEntries" .* got "10"\./],
    ['maxEntries Infinity', { maxEntries: Infinity }, /^"maxEntries" .* got Infinity\./],
    [
      'sweepIntervalMs 0',
      { sweepIntervalMs: 0 },
      /^"sweepIntervalMs" must be a whole number of ms from 1 to 2147483647; got 0\./,
    ],
    [
      'sweepIntervalMs 2^31',
      { sweepIntervalMs: 2 ** 31 },
      /^"sweepIntervalMs" .* got 2147483648\./,
    ],
    ['sweepIntervalMs NaN', { sweepIntervalMs: NaN }, /^"sweepIntervalMs" .* got NaN\./],
    [
      'a clock without now()',
      { clock: {} },
      /^"clock" must be an object with a now\(\) method; got an object$/,
    ],
    ['a function as clock', { clock: Date.now }, /^"clock" .* got a function$/],
  ]
  for (const [label, options, message] of invalid) {
    it(`refuses ${label} with TETHER_INVALID_OPTION`, function badOption() {
      assert.throws(
        function construct() {
          return new MemoryStore(options as MemoryStoreOptions)
        },
        {
          name: 'TetherError',
          code: 'TETHER_INVALID_OPTION',
          message,
        },
      )
    })
  }
})
