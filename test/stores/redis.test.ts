// RedisStore against the Redis at REDIS_URL (skipped with a reason when it is unreachable): the
// conformance suite through node-redis and through ioredis, then what only Redis has (round
// trips, NOSCRIPT, TTLs, the tombstone race). Each test uses its own key prefix and deletes its
// keys afterwards; the server is shared, so nothing here flushes it (SCRIPT FLUSH only empties the
// script cache, which every client refills on NOSCRIPT).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { RedisStore } from '../../src/stores/redis.js'
import type { RedisLike } from '../../src/stores/redis.js'
import { REDIS_URL, skipUnlessReachable } from '../helpers/services.js'
import { describeStoreConformance, makePatch, makeRecord } from './conformance.js'
import { IDLE_MS, listedKeys, T0 } from './fixtures.js'
import type { ManualClock } from './fixtures.js'

const skip = await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL')

type NodeRedis = ReturnType<typeof createClient>

// One client of each kind for the whole file, opened only when Redis answers.
const nodeRedis: NodeRedis | undefined =
  skip === false ? createClient({ url: REDIS_URL }) : undefined
const ioRedis: Redis | undefined = skip === false ? new Redis(REDIS_URL) : undefined
await nodeRedis?.connect()

after(async function closeClients() {
  await nodeRedis?.close()
  await ioRedis?.quit()
})

function connected(): NodeRedis {
  if (nodeRedis === undefined) throw new Error('Redis is not connected')
  return nodeRedis
}

function newPrefix(): string {
  return `tether-test:${randomBytes(6).toString('hex')}:`
}

/** Deletes every key under `prefix` (SCAN + DEL, bounded: a test writes a few hundred at most). */
async function deleteKeys(prefix: string): Promise<void> {
  const client = connected()
  let cursor = '0'
  for (let round = 0; round < 1000; round++) {
    const reply = await client.sendCommand<[string, string[]]>([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      '1000',
    ])
    if (reply[1].length > 0) await client.sendCommand(['DEL', ...reply[1]])
    cursor = reply[0]
    if (cursor === '0') return
  }
  throw new Error(`keys under ${prefix} were not all deleted`)
}

function manualClock(): ManualClock {
  return {
    t: T0,
    now() {
      return this.t
    },
  }
}

describeStoreConformance(
  'RedisStore (node-redis)',
  function openNodeRedisStore(clock) {
    const prefix = newPrefix()
    const store = new RedisStore({ client: connected(), prefix, clock })
    return Promise.resolve({ store, close: deleteKeys.bind(null, prefix) })
  },
  { skip },
)

describeStoreConformance(
  'RedisStore (ioredis)',
  function openIoRedisStore(clock) {
    if (ioRedis === undefined) throw new Error('Redis is not connected')
    const prefix = newPrefix()
    const store = new RedisStore({ client: ioRedis, prefix, clock })
    return Promise.resolve({ store, close: deleteKeys.bind(null, prefix) })
  },
  { skip },
)

/** A RedisLike over node-redis that records every command, and can hold back chosen ones. */
interface Spy extends RedisLike {
  sent: string[][]
  /** Sends to keys for which this returns a promise wait for it first. */
  hold?: ((key: string) => Promise<void> | undefined) | undefined
}

function spyClient(): Spy {
  const client = connected()
  const spy: Spy = {
    sent: [],
    async send(key, args) {
      spy.sent.push(args)
      await spy.hold?.(key)
      return client.sendCommand(args)
    },
  }
  return spy
}

/** A store over a spy, with its own prefix and clock; its keys are deleted after the test. */
function openSpied(t: TestContext): {
  store: RedisStore
  spy: Spy
  clock: ManualClock
  prefix: string
} {
  const spy = spyClient()
  const clock = manualClock()
  const prefix = newPrefix()
  t.after(deleteKeys.bind(null, prefix))
  return { store: new RedisStore({ client: spy, prefix, clock }), spy, clock, prefix }
}

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = function unset() {}
  const promise = new Promise<void>(function capture(r) {
    resolve = r
  })
  return { promise, resolve }
}

/** Names of the commands sent since the last call (EVALSHA, EVAL...); forgets them. */
function drain(spy: Spy): string[] {
  const names = spy.sent.map(function name(args) {
    return args[0] ?? ''
  })
  spy.sent.length = 0
  return names
}

describe('RedisStore', { skip }, function redisStore() {
  it('sends one command for get, touch, update, anonymous create and destroy', async function oneTrip(t) {
    const { store, spy } = openSpied(t)
    const base = makeRecord({ data: { a: 1 } })
    await store.create('s', base)
    assert.deepEqual(drain(spy), ['EVALSHA'])
    await store.get('s')
    assert.deepEqual(drain(spy), ['HGETALL'], 'a read is one plain command, no script')
    await store.touch('s', { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 1 + IDLE_MS })
    assert.deepEqual(drain(spy), ['EVALSHA'])
    await store.update('s', makePatch(base, { set: { b: 2 } }))
    assert.deepEqual(drain(spy), ['EVALSHA'])
    await store.destroy('s')
    assert.deepEqual(drain(spy), ['EVALSHA'])
  })

  it('creates a logged-in session in two steps, and four when it evicts', async function loginTrips(t) {
    const { store, spy } = openSpied(t)
    await store.create('1', makeRecord({ userId: 'u' }), { maxPerUser: 1 })
    assert.equal(drain(spy).length, 2)
    const second = makeRecord({ userId: 'u', createdAt: T0 + 1 })
    assert.deepEqual(await store.create('2', second, { maxPerUser: 1 }), ['1'])
    assert.equal(drain(spy).length, 4)
  })

  it('sends only the changed top-level keys of an update', async function onlyChanged(t) {
    const { store, spy } = openSpied(t)
    const base = makeRecord({ data: { big: 'x'.repeat(10_000), n: 1 } })
    await store.create('s', base)
    drain(spy)
    await store.update('s', makePatch(base, { set: { n: 2 }, unset: ['gone'] }))
    const args = spy.sent[0] ?? []
    assert.ok(args.includes('d"n"') && args.includes('d"gone"'))
    assert.ok(!args.includes('d"big"') && args.join('').length < 1000)
  })

  it('falls back to EVAL once after SCRIPT FLUSH, then uses EVALSHA again', async function noscript(t) {
    const { store, spy } = openSpied(t)
    await store.create('s', makeRecord())
    await connected().sendCommand(['SCRIPT', 'FLUSH'])
    drain(spy)
    const times = { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 1 + IDLE_MS }
    assert.equal(await store.touch('s', times), true)
    assert.deepEqual(drain(spy), ['EVALSHA', 'EVAL'])
    assert.equal(await store.touch('s', times), true)
    assert.deepEqual(drain(spy), ['EVALSHA'])
    assert.deepEqual(await store.get('s'), { ...makeRecord(), ...times })
  })

  it('sets TTLs to the sooner expiry by the store clock and hides dead sessions Redis still holds', async function ttl(t) {
    const { store, clock, prefix } = openSpied(t)
    const client = connected()
    const base = makeRecord({ userId: 'u', absoluteExpiresAt: T0 + IDLE_MS / 2 })
    await store.create('s', base)
    await store.create('idle', makeRecord())
    async function pttl(key: string): Promise<number> {
      return Number(await client.sendCommand(['PTTL', prefix + key]))
    }
    assert.ok(Math.abs((await pttl('s:s')) - IDLE_MS / 2) < 5000)
    assert.ok(Math.abs((await pttl('s:idle')) - IDLE_MS) < 5000)
    assert.ok(Math.abs((await pttl('u:u')) - IDLE_MS / 2) < 5000)
    clock.t = T0 + 1000
    await store.touch('idle', { lastSeenAt: clock.t, idleExpiresAt: clock.t + 2 * IDLE_MS })
    assert.ok(Math.abs((await pttl('s:idle')) - 2 * IDLE_MS) < 5000)
    clock.t = T0 + 2 * IDLE_MS + 1000
    assert.equal(await store.get('idle'), null)
    assert.equal(Number(await client.sendCommand(['EXISTS', `${prefix}s:idle`])), 1)
  })

  it('does not evict a live session because a newer one expired idle', async function probe(t) {
    const { store, clock } = openSpied(t)
    await store.create('old', makeRecord({ userId: 'u' }))
    await store.create('newer', makeRecord({ userId: 'u', createdAt: T0 + 1 }))
    clock.t = T0 + IDLE_MS - 1
    await store.touch('old', { lastSeenAt: clock.t, idleExpiresAt: clock.t + IDLE_MS })
    clock.t = T0 + IDLE_MS + 1
    const record = makeRecord({ userId: 'u', createdAt: clock.t })
    assert.deepEqual(await store.create('new', record, { maxPerUser: 2 }), [])
    assert.deepEqual(await listedKeys(store, 'u'), ['old', 'new'])
  })

  it('leaves a session evicted before its create arrives missing', async function tombstone(t) {
    const { store, spy, prefix } = openSpied(t)
    // Hold the first login's session write until the second login has evicted it.
    const reached = deferred()
    const gate = deferred()
    spy.hold = function holdFirst(key) {
      if (key !== `${prefix}s:first`) return undefined
      spy.hold = undefined
      reached.resolve()
      return gate.promise
    }
    const first = store.create('first', makeRecord({ userId: 'u' }), { maxPerUser: 1 })
    await reached.promise
    const second = makeRecord({ userId: 'u', createdAt: T0 + 1 })
    assert.deepEqual(await store.create('second', second, { maxPerUser: 1 }), ['first'])
    gate.resolve()
    assert.deepEqual(await first, [])
    assert.equal(await store.get('first'), null)
    assert.deepEqual(await listedKeys(store, 'u'), ['second'])
  })

  it('never lists more than maxPerUser during 50 concurrent logins', async function concurrentCap(t) {
    const { store } = openSpied(t)
    const creates: Array<Promise<string[]>> = []
    const listings: Array<Promise<string[]>> = []
    for (let n = 0; n < 50; n++) {
      creates.push(store.create(`${n}`, makeRecord({ userId: 'u' }), { maxPerUser: 5 }))
      if (n % 5 === 0) listings.push(listedKeys(store, 'u'))
    }
    const evicted = (await Promise.all(creates)).flat()
    for (const listed of await Promise.all(listings)) assert.ok(listed.length <= 5)
    const listed = await listedKeys(store, 'u')
    assert.equal(listed.length, 5)
    assert.equal(new Set([...evicted, ...listed]).size, 50)
    for (const key of evicted) assert.equal(await store.get(key), null)
  })

  it('leaves the client open on close', async function close(t) {
    const { store } = openSpied(t)
    await store.close()
    assert.equal(connected().isOpen, true)
    assert.equal(await store.get('s'), null)
  })

  it('rejects when the client is closed', async function closedClient() {
    const client = createClient({ url: REDIS_URL })
    await client.connect()
    await client.close()
    const store = new RedisStore({ client, prefix: newPrefix() })
    await assert.rejects(store.get('s'))
    await assert.rejects(store.create('s', makeRecord({ userId: 'u' })))
  })
})

describe('RedisStore options', function options() {
  const client: RedisLike = {
    send() {
      return Promise.reject(new Error('offline'))
    },
  }

  it('rejects a client of no known shape', function badClient() {
    assert.throws(
      function construct() {
        return new RedisStore({ client: {} as RedisLike })
      },
      {
        code: 'TETHER_INVALID_OPTION',
        message:
          '"client" must be a node-redis client or cluster, an ioredis client or cluster, or an ' +
          'object with send(key, args); got an object',
      },
    )
  })

  it('rejects a prefix with a hash tag', function badPrefix() {
    assert.throws(
      function construct() {
        return new RedisStore({ client, prefix: '{tether}:' })
      },
      {
        code: 'TETHER_INVALID_OPTION',
        message:
          '"prefix" must be a string without "{" or "}" (a hash tag would put every session on one ' +
          'cluster node); got "{tether}:". Omit it for "tether:".',
      },
    )
  })

  it('rejects a clock without now()', function badClock() {
    assert.throws(
      function construct() {
        return new RedisStore({ client, clock: {} as ManualClock })
      },
      {
        code: 'TETHER_INVALID_OPTION',
        message: '"clock" must be an object with a now() method; got an object',
      },
    )
  })

  it('rejects a maxPerUser that is not a positive integer', async function badCap() {
    const store = new RedisStore({ client })
    await assert.rejects(store.create('s', makeRecord({ userId: 'u' }), { maxPerUser: 0 }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"maxPerUser" must be a positive integer; got 0',
    })
  })

  it('passes the client error through as the rejection', async function clientError() {
    const store = new RedisStore({ client })
    await assert.rejects(store.get('s'), { message: 'offline' })
  })
})
