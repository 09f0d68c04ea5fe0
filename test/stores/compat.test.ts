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
  it('refuses a create on a key that holds a live session, keeping the first (TETHER_SESSION_ID_IN_USE)', async () => {
    const store = fromExpressSessionStore(new ExpressMemoryStore())
    const now = Date.now()
    const first = makeRecord({ createdAt: now, data: { first: true } })
    await store.create('k', first)
    await assert.rejects(
      store.create('k', makeRecord({ createdAt: now, data: { first: false } })),
      {
        code: 'TETHER_SESSION_ID_IN_USE',
      },
    )
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
