/**
 * fromExpressSessionStore: what the wrapper adds on top of an express-session store (the full
 * conformance suite needs a per-user index and atomic writes, which such a store has not).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore as ExpressMemoryStore } from '../../src/adapters/express/store.js'
import { fromExpressSessionStore } from '../../src/stores/compat.js'
import { makeRecord } from './fixtures.js'

/** An express-session store with get/set/destroy only (no touch), answering asynchronously. */
function bareStore() {
  const rows = new Map<string, string>()
  return {
    get: (key: string, cb: (err: unknown, value?: unknown) => void) =>
      setImmediate(cb, null, rows.has(key) ? JSON.parse(rows.get(key)!) : null),
    set: (key: string, value: unknown, cb: (err?: unknown) => void) => {
      rows.set(key, JSON.stringify(value))
      setImmediate(cb, null)
    },
    destroy: (key: string, cb: (err?: unknown) => void) => {
      rows.delete(key)
      setImmediate(cb, null)
    },
  }
}

describe('fromExpressSessionStore', () => {
  it('reads nothing before a create, as express-session does (its stores may not answer a missing key)', async () => {
    const inner = new ExpressMemoryStore()
    let reads = 0
    const get = inner.get.bind(inner)
    inner.get = (sid, cb) => {
      reads++
      get(sid, cb)
    }
    const store = fromExpressSessionStore(inner)
    await store.create('k', makeRecord({ createdAt: Date.now(), data: { first: true } }))
    assert.equal(reads, 0)
    assert.deepEqual((await store.get('k'))?.data, { first: true })
  })

  it('replaces an expired session on create under the same key', async () => {
    const store = fromExpressSessionStore(new ExpressMemoryStore())
    const old = Date.now() - 2 * 3_600_000
    await store.create('k', makeRecord({ createdAt: old, absoluteExpiresAt: old + 1 }))
    const fresh = makeRecord({ createdAt: Date.now(), data: { fresh: true } })
    await store.create('k', fresh)
    assert.deepEqual((await store.get('k'))?.data, { fresh: true })
  })

  it('moves the idle expiry of the stored record on touch, with a store whose touch() only refreshes its own', async () => {
    // Tether's express MemoryStore, like connect-redis, has a touch() that leaves the data alone.
    const store = fromExpressSessionStore(new ExpressMemoryStore())
    const now = Date.now()
    const record = makeRecord({ createdAt: now, data: { n: 1 } })
    await store.create('k', record)
    const times = { lastSeenAt: now + 1000, idleExpiresAt: now + 3_600_000 }
    assert.equal(await store.touch('k', times), true)
    const touched = await store.get('k')
    assert.equal(touched?.idleExpiresAt, times.idleExpiresAt)
    assert.equal(touched?.lastSeenAt, times.lastSeenAt)
  })

  it('keeps a write made since the toucher loaded the session (no touch() in the store)', async () => {
    const store = fromExpressSessionStore(bareStore() as never)
    const now = Date.now()
    const loaded = makeRecord({ createdAt: now, data: { n: 1 } })
    await store.create('k', loaded)
    // Another request writes; then the first, which only read, touches with its older copy.
    await store.create('k', { ...loaded, v: 2, data: { n: 1, cart: ['x'] } })
    const times = { lastSeenAt: now + 1000, idleExpiresAt: now + 3_600_000 }
    assert.equal(await store.touch('k', times), true)
    const after = await store.get('k')
    assert.deepEqual(after?.data, { n: 1, cart: ['x'] })
    assert.equal(after?.v, 2, 'the version never moves back')
    assert.equal(after?.idleExpiresAt, times.idleExpiresAt)
  })

  it('answers false to a touch of a session that is gone', async () => {
    const store = fromExpressSessionStore(bareStore() as never)
    const times = { lastSeenAt: Date.now(), idleExpiresAt: Date.now() + 60_000 }
    assert.equal(await store.touch('missing', times), false)
  })
})
