/**
 * Bounded tables under 100,000 distinct clients (issue 13, point 4), driven in-process: the
 * invalid-token throttle (through manager.load, as the adapters call it), the MemoryStore, and the
 * reference app's failed-login counter. Each is checked by behaviour (the oldest entry is
 * forgotten, the newest kept, the size never past the bound) and by the heap after a full GC:
 * what 100,000 clients leave is what the bound allows, not 100,000 entries.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createRateLimiter } from '../../app/rate-limit.js'
import { createSessionManager } from '../../src/core/manager.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'

const CLIENTS = 100_000
const BOUND = 10_000

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after a full collection, in bytes. */
function settledHeap(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** IPv4 address number `i` (10.x.y.z), all distinct below 2^24. */
function address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

/**
 * The heap `fill(from, to)` leaves growing from 2×BOUND clients to CLIENTS: past the bound, every
 * new client must replace an old one. An unbounded table would grow by 80,000 entries (several MB
 * for any entry of 50 bytes or more); a bounded one by nothing but noise. 1 MB allows the noise
 * (a few hundred kB between two settled heaps here) and is under a fifth of what 80,000 Map
 * entries of even the smallest kind take (a key string and a small object: ~100 bytes each).
 */
const HEAP_TOLERANCE = 1_000_000

function heapGrowthPastBound(fill: (from: number, to: number) => void | Promise<void>) {
  return async () => {
    settledHeap() // the first full collections after start-up still free start-up garbage
    await fill(0, 2 * BOUND)
    const atBound = settledHeap()
    await fill(2 * BOUND, CLIENTS)
    const atEnd = settledHeap()
    return { atBound, atEnd, growth: atEnd - atBound }
  }
}

describe('bounded tables under 100,000 distinct clients', () => {
  it('the invalid-token throttle forgets the oldest addresses and its heap stays flat', async (t) => {
    let now = 1_750_000_000_000
    const manager = createSessionManager({
      secret: newSecret(),
      store: new MemoryStore(),
      clock: { now: () => now },
      throttle: { limit: 2, window: '1h', maxTracked: BOUND },
    })
    t.after(() => manager.close())
    const forged = 't1.AAAAAAAA.mxbjwcgf.' + 'A'.repeat(43) + '.' + 'B'.repeat(43)
    const hit = async (i: number) => {
      const outcome = await manager.load({ token: forged, ip: address(i) })
      return outcome.session === null ? outcome.retryAfterS : undefined
    }
    for (let i = 0; i < 3; i++) await hit(0)
    assert.notEqual(await hit(0), undefined, 'address 0 is blocked')
    const measure = heapGrowthPastBound(async (from, to) => {
      for (let i = Math.max(from, 1); i < to; i++) {
        await hit(i)
        now++
      }
    })
    const heap = await measure()
    // Address 0 was forgotten: counted afresh, so not blocked. The last one is still counted.
    assert.equal(await hit(0), undefined, 'the oldest address is forgotten')
    await hit(CLIENTS - 1)
    assert.notEqual(await hit(CLIENTS - 1), undefined, 'the newest address is still counted')
    assert.ok(heap.growth < HEAP_TOLERANCE, `heap grew ${heap.growth} bytes past the bound`)
    t.diagnostic(`throttle: ${CLIENTS} addresses, heap ${mb(heap.atBound)} → ${mb(heap.atEnd)} MB`)
  })

  it('the MemoryStore holds at most maxEntries sessions, evicting anonymous ones first', async (t) => {
    const store = new MemoryStore({ maxEntries: BOUND })
    t.after(() => store.close())
    const manager = createSessionManager({ secret: newSecret(), store })
    t.after(() => manager.close())
    const user = await manager.login(manager.create({}), { seen: 1 }, 'u1', {})
    const userToken = manager.token(user)
    let firstToken = ''
    let largest = 0
    const measure = heapGrowthPastBound(async (from, to) => {
      for (let i = from; i < to; i++) {
        const session = manager.create({ ip: address(i) })
        await manager.commit(session, {}, { data: { n: i }, saveNew: true })
        if (i === 0) firstToken = manager.token(session)
        largest = Math.max(largest, store.size)
      }
    })
    const heap = await measure()
    assert.ok(largest <= BOUND, `held ${largest} sessions, bound ${BOUND}`)
    assert.equal(store.size, BOUND)
    assert.equal((await manager.load({ token: firstToken })).session, null, 'the oldest went first')
    const kept = (await manager.load({ token: userToken })).session
    assert.equal(kept?.record.userId, 'u1', 'anonymous sessions never evict a logged-in user')
    assert.ok(heap.growth < HEAP_TOLERANCE, `heap grew ${heap.growth} bytes past the bound`)
    t.diagnostic(
      `MemoryStore: ${CLIENTS} sessions, heap ${mb(heap.atBound)} → ${mb(heap.atEnd)} MB`,
    )
  })

  it("the reference app's failed-login counter forgets the oldest addresses and its heap stays flat", async (t) => {
    const limiter = createRateLimiter({ maxFailures: 1, windowMs: 3_600_000, maxKeys: BOUND })
    limiter.fail(address(0))
    assert.ok(limiter.retryAfterMs(address(0)) > 0, 'address 0 is blocked')
    const measure = heapGrowthPastBound((from, to) => {
      for (let i = Math.max(from, 1); i < to; i++) limiter.fail(address(i))
    })
    const heap = await measure()
    assert.equal(limiter.retryAfterMs(address(0)), 0, 'the oldest address is forgotten')
    assert.ok(limiter.retryAfterMs(address(CLIENTS - 1)) > 0, 'the newest is still counted')
    assert.ok(heap.growth < HEAP_TOLERANCE, `heap grew ${heap.growth} bytes past the bound`)
    t.diagnostic(
      `login limits: ${CLIENTS} addresses, heap ${mb(heap.atBound)} → ${mb(heap.atEnd)} MB`,
    )
  })
})

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}
