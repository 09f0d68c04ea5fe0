/**
 * The store contract's promise about `SessionPatch.next`: it is the change applied to the record
 * the store holds at version `next.v - 1`. SQLite and Memory write `next` as is while the stored
 * version is still `next.v - 1`, so a patch that broke the promise would lose other requests'
 * writes. The store here checks every update the manager sends, through the flows that build
 * patches, and each flow then checks that no write was lost, on both stores that take `next`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext, SessionState } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { SqliteStore } from '../../src/stores/sqlite.js'
import { applyPatch, type SessionPatch, type SessionStore } from '../../src/stores/types.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000
const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }
const AWAY: RequestContext = { ip: '203.0.113.9', userAgent: 'Firefox/140' }

/** A store whose update first checks `next` against the stored record. */
function checkingStore(inner: SessionStore) {
  const seen = { checked: 0 }
  async function update(key: string, patch: SessionPatch, options?: { ifVersion?: number }) {
    const stored = await inner.get(key)
    if (stored !== null && stored.v === patch.next.v - 1) {
      assert.deepEqual(json(patch.next), json(applyPatch(stored, patch)), 'next = change applied')
      seen.checked++
    }
    return inner.update(key, patch, options)
  }
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'update') return update
      const value = Reflect.get(target, name, target) as unknown
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value
    },
  })
  return { store, seen }
}

function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value))
}

const STORES: Array<[string, (clock: ManualClock) => SessionStore]> = [
  ['MemoryStore', (clock) => new MemoryStore({ clock })],
  ['SqliteStore', (clock) => new SqliteStore({ path: ':memory:', clock })],
]

for (const [storeName, makeStore] of STORES) {
  describe(`SessionPatch.next on ${storeName}`, function patchNext() {
    function setup(extra: Partial<ManagerOptions> = {}) {
      const clock = manualClock(Date.now())
      const inner = makeStore(clock)
      const { store, seen } = checkingStore(inner)
      const manager = createSessionManager({
        secret: newSecret(),
        store,
        clock,
        renewAfter: '15m',
        renewGrace: '1m',
        ...extra,
      })
      const stored = async (s: SessionState) => ({ ...(await inner.get(s.ref))!.data })
      return { clock, manager, seen, stored }
    }

    /** A logged-in session and two requests that loaded it. */
    async function twoRequests(s: ReturnType<typeof setup>, data: Record<string, unknown>) {
      const login = await s.manager.login(s.manager.create(HOME), data, 'alice', HOME)
      const token = s.manager.token(login)
      const a = (await s.manager.load({ ...HOME, token })).session!
      const c = (await s.manager.load({ ...HOME, token })).session!
      return { token, a, c }
    }

    it('is the change applied to the successor when a write follows a renewal', async function retargeted() {
      const s = setup()
      const login = await s.manager.login(s.manager.create(HOME), { n: 0 }, 'alice', HOME)
      const token = s.manager.token(login)
      // C loads the session before its renewal; B loads it after, renews it, and writes first.
      const c = (await s.manager.load({ ...HOME, token })).session!
      s.clock.advance(16 * MIN)
      const b = (await s.manager.load({ ...HOME, token })).session!
      assert.notEqual(b.ref, c.ref, 'B renewed the session')
      await s.manager.commit(b, HOME, { data: { ...b.record.data, b: 1 } })
      // C's write finds the old record ended and goes to the successor, which holds B's write;
      // then C saves again (req.session.save() and the end of the request).
      const dataC: Record<string, unknown> = { ...c.record.data, c: 1 }
      await s.manager.commit(c, HOME, { data: dataC })
      assert.equal(c.ref, b.ref)
      dataC['c2'] = 1
      await s.manager.commit(c, HOME, { data: dataC })
      assert.deepEqual(await s.stored(c), { n: 0, b: 1, c: 1, c2: 1 }, 'no write lost')
      assert.ok(s.seen.checked >= 2, `checked ${s.seen.checked} updates`)
    })

    it('keeps another request’s write when a request writes twice, the first time merged', async function twice() {
      const s = setup()
      const { a, c } = await twoRequests(s, { n: 0 })
      await s.manager.commit(c, HOME, { data: { ...c.record.data, c: 1 } })
      // A's first write is merged with C's; its second must not pass A's copy off as stored.
      const dataA: Record<string, unknown> = { ...a.record.data, a: 1 }
      await s.manager.commit(a, HOME, { data: dataA })
      dataA['b'] = 1
      await s.manager.commit(a, HOME, { data: dataA })
      assert.deepEqual(await s.stored(a), { n: 0, a: 1, b: 1, c: 1 })
    })

    it('does not bring back a key another request deleted', async function deleted() {
      const s = setup()
      const { a, c } = await twoRequests(s, { isAdmin: true })
      const { isAdmin, ...rest } = c.record.data
      assert.equal(isAdmin, true)
      await s.manager.commit(c, HOME, { data: rest })
      const dataA: Record<string, unknown> = { ...a.record.data, page: 1 }
      await s.manager.commit(a, HOME, { data: dataA })
      dataA['page'] = 2
      await s.manager.commit(a, HOME, { data: dataA })
      assert.deepEqual(await s.stored(a), { page: 2 })
    })

    it('keeps a parallel write when binding "log" moved the session to a new context', async function binding() {
      const s = setup({ binding: 'log' })
      const login = await s.manager.login(s.manager.create(HOME), { n: 0 }, 'alice', HOME)
      const token = s.manager.token(login)
      const c = (await s.manager.load({ ...HOME, token })).session!
      // A loads from another network while C commits: A's context update lands after C's write.
      const loadingA = s.manager.load({ ...AWAY, token })
      const committingC = s.manager.commit(c, HOME, { data: { ...c.record.data, c: 1 } })
      const a = (await loadingA).session!
      await committingC
      await s.manager.commit(a, AWAY, { data: { ...a.record.data, a: 1 } })
      assert.deepEqual(await s.stored(a), { n: 0, a: 1, c: 1 })
    })

    it('is the change applied to the record in commits, update(fn), binding and renewal', async function flows() {
      const s = setup({ binding: 'log' })
      let session = await s.manager.login(s.manager.create(HOME), { cart: ['a'] }, 'alice', HOME)
      await s.manager.commit(session, HOME, { data: { ...session.record.data, seen: 1 } })
      await Promise.all(
        [1, 2, 3].map((n) =>
          s.manager.update(session, (data) => ({ ...data, [`u${n}`]: n }), HOME),
        ),
      )
      // Another network: binding 'log' moves the session to the new context with an update.
      session = (await s.manager.load({ ...AWAY, token: s.manager.token(session) })).session!
      await s.manager.commit(session, AWAY, { data: { ...session.record.data, away: true } })
      // Past renewAfter: the old record ends (its user cleared) as the successor takes over.
      s.clock.advance(16 * MIN)
      const before = session.ref
      session = (await s.manager.load({ ...AWAY, token: s.manager.token(session) })).session!
      // A store that refused the ending patch would have left the session unrenewed.
      assert.notEqual(session.ref, before, 'renewed')
      const { cart, ...rest } = session.record.data
      assert.ok(cart !== undefined)
      await s.manager.commit(session, AWAY, { data: rest })
      assert.deepEqual(await s.stored(session), { seen: 1, u1: 1, u2: 2, u3: 3, away: true })
      assert.ok(s.seen.checked >= 5, `checked ${s.seen.checked} updates`)
    })
  })
}
