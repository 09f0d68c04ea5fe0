import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import { MemoryStore } from '../../src/stores/memory.js'
import type { MemoryStoreOptions } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/types.js'
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

/** Three sessions a, b, c created in that order in a store of 3; a and b belong to user u. */
async function fullStore(t: TestContext) {
  const clock = manualClock()
  const store = new MemoryStore({ maxEntries: 3, clock })
  t.after(store.close.bind(store))
  await store.create('a', makeRecord({ userId: 'u' }))
  await store.create('b', makeRecord({ userId: 'u' }))
  await store.create('c', makeRecord())
  return { store, clock }
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
      return store.update(key, makePatch(makeRecord(), { set: { used: true } }))
    },
  ],
]

describe('MemoryStore', function memoryStore() {
  it('evicts the least recently used session beyond maxEntries', async function lru(t) {
    const { store } = await fullStore(t)
    await store.create('d', makeRecord())
    assert.equal(store.size, 3)
    assert.equal(await store.get('a'), null)
    for (const key of ['b', 'c', 'd']) assert.notEqual(await store.get(key), null)
  })

  it('removes an evicted session from the user index', async function lruIndex(t) {
    const { store } = await fullStore(t)
    await store.create('d', makeRecord())
    assert.deepEqual(store['byUser'].get('u'), new Set(['b']))
    await store.create('e', makeRecord())
    assert.equal(store['byUser'].has('u'), false)
    assert.deepEqual(await store.destroyByUser('u'), [])
  })

  for (const [name, use] of USES) {
    it(`counts ${name} as a use when choosing what to evict`, async function recentUse(t) {
      const { store } = await fullStore(t)
      await use(store, 'a')
      await store.create('d', makeRecord())
      assert.equal(await store.get('b'), null)
      assert.notEqual(await store.get('a'), null)
    })
  }

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
