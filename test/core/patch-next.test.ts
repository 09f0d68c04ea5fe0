/**
 * The store contract's promise about `SessionPatch.next`: it is the change applied to the record
 * it was computed from, at version `next.v - 1`. SQLite and Memory write `next` as is while the
 * stored version is still `next.v - 1`, so a patch that broke the promise would lose writes. A
 * store here checks every update the manager sends, through the flows that build patches.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { applyPatch, type SessionPatch, type SessionStore } from '../../src/stores/types.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000
const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }

/** A MemoryStore whose update first checks `next` against the stored record. */
function checkingStore(inner: MemoryStore) {
  const seen = { checked: 0, merged: 0 }
  async function update(key: string, patch: SessionPatch, options?: { ifVersion?: number }) {
    const stored = await inner.get(key)
    if (stored !== null && stored.v === patch.next.v - 1) {
      assert.deepEqual(
        json(patch.next),
        json(applyPatch(stored, patch)),
        'next = the change applied',
      )
      seen.checked++
    } else seen.merged++
    return inner.update(key, patch, options)
  }
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'update') return update
      const value = Reflect.get(target, name, target) as unknown
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value
    },
  }) as SessionStore
  return { store, seen }
}

function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value))
}

function setup(extra: Partial<ManagerOptions> = {}) {
  const clock = manualClock(Date.now())
  const { store, seen } = checkingStore(new MemoryStore({ clock }))
  const manager = createSessionManager({
    secret: newSecret(),
    store,
    clock,
    renewAfter: '15m',
    renewGrace: '1m',
    ...extra,
  })
  return { clock, manager, seen }
}

describe('SessionPatch.next', function patchNext() {
  it('is the change applied to the successor when a write follows a renewal', async function retargeted() {
    const { clock, manager, seen } = setup()
    const login = await manager.login(manager.create(HOME), { n: 0 }, 'alice', HOME)
    const token = manager.token(login)
    // C loads the session before its renewal; B loads it after, renews it, and writes first.
    const c = (await manager.load({ ...HOME, token })).session!
    clock.advance(16 * MIN)
    const b = (await manager.load({ ...HOME, token })).session!
    assert.notEqual(b.ref, c.ref, 'B renewed the session')
    await manager.commit(b, HOME, { data: { ...b.record.data, b: 1 } })
    // C's write finds the old record ended and goes to the successor, which holds B's write.
    await manager.commit(c, HOME, { data: { ...c.record.data, c: 1 } })
    const head = (await manager.load({ ...HOME, token: manager.token(c) })).session!
    assert.equal(head.ref, b.ref)
    assert.deepEqual({ ...head.record.data }, { n: 0, b: 1, c: 1 }, 'no write lost')
    assert.ok(seen.checked >= 2, `checked ${seen.checked} updates`)
  })

  it('is the change applied to the record in commits, update(fn), binding and renewal', async function flows() {
    const { clock, manager, seen } = setup({ binding: 'log' })
    let session = await manager.login(manager.create(HOME), { cart: ['a'] }, 'alice', HOME)
    await manager.commit(session, HOME, { data: { ...session.record.data, seen: 1 } })
    await Promise.all(
      [1, 2, 3].map((n) => manager.update(session, (data) => ({ ...data, [`u${n}`]: n }), HOME)),
    )
    // Another network: binding 'log' moves the session to the new context with an update.
    const away = { ip: '203.0.113.9', userAgent: 'Firefox/140' }
    session = (await manager.load({ ...away, token: manager.token(session) })).session!
    await manager.commit(session, away, { data: { ...session.record.data, away: true } })
    // Past renewAfter: the old record ends (its user cleared) as the successor takes over.
    clock.advance(16 * MIN)
    const before = session.ref
    session = (await manager.load({ ...away, token: manager.token(session) })).session!
    // A store that refused the ending patch would have left the session unrenewed.
    assert.notEqual(session.ref, before, 'renewed')
    const { cart, ...rest } = session.record.data
    await manager.commit(session, away, { data: rest })
    assert.ok(cart !== undefined)
    const after = await manager.load({ ...away, token: manager.token(session) })
    assert.equal(after.session!.record.data['cart'], undefined)
    assert.equal(after.session!.record.data['u3'], 3)
    assert.ok(seen.checked >= 5, `checked ${seen.checked} updates`)
  })
})
