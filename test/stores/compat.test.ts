/**
 * fromExpressSessionStore: what the wrapper adds on top of an express-session store (the full
 * conformance suite needs a per-user index and atomic writes, which such a store has not).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore as ExpressMemoryStore } from '../../src/adapters/express/store.js'
import { fromExpressSessionStore } from '../../src/stores/compat.js'
import { makeRecord } from './fixtures.js'

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
})
