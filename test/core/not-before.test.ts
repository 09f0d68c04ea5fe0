/**
 * revokeAllSessions() and the "not before" mark it sets (src/core/not-before.ts): how often each
 * manager reads the mark (time injected), the window its cache leaves open on other managers, the
 * events, and the stores that cannot hold a mark. The per-store behaviour is in the conformance
 * suite (test/stores/conformance-marks.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { ManagerOptions } from '../../src/core/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { fromExpressSessionStore, type ExpressStoreLike } from '../../src/stores/compat.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

/** A MemoryStore that counts mark reads and remembers mark writes. */
class CountingStore extends MemoryStore {
  reads = 0
  writes: Array<{ scope: string; at: number; expiresAt: number }> = []

  override getNotBefore(scope: string): Promise<number | null> {
    this.reads++
    return super.getNotBefore(scope)
  }

  override setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    this.writes.push({ scope, at, expiresAt })
    return super.setNotBefore(scope, at, expiresAt)
  }
}

function setup(extra: Partial<ManagerOptions> = {}, clock: ManualClock = manualClock()) {
  const store = new CountingStore({ clock })
  const events: TetherEvent[] = []
  const options = { secret: newSecret(), store, clock, ...extra }
  const manager = createSessionManager({ ...options, onEvent: (e) => events.push(e) })
  /** Another process on the same store and secret. */
  const other = () => createSessionManager(options)
  return { clock, store, events, manager, other }
}

async function loggedIn(manager: ReturnType<typeof setup>['manager'], userId = 'alice') {
  return manager.token(await manager.login(manager.create({}), {}, userId, {}))
}

describe('revokeAllSessions', () => {
  it('reads the mark at most once per revocationCheckInterval, however many requests come', async () => {
    const s = setup({ revocationCheckInterval: '5s' })
    const token = await loggedIn(s.manager)
    const loads = await Promise.all(Array.from({ length: 50 }, () => s.manager.load({ token })))
    assert.ok(loads.every((o) => o.session !== null))
    assert.equal(s.store.reads, 1, '50 concurrent requests share one read')
    s.clock.advance(4999)
    for (let i = 0; i < 20; i++) await s.manager.load({ token })
    assert.equal(s.store.reads, 1)
    s.clock.advance(1)
    await s.manager.load({ token })
    assert.equal(s.store.reads, 2)
    assert.equal((await s.manager.load({ token: undefined })).rejected, 'none')
    assert.equal(s.store.reads, 2, 'a request without a cookie reads nothing')
  })

  it('reads the mark on every request with revocationCheckInterval 0', async () => {
    const s = setup({ revocationCheckInterval: 0 })
    const token = await loggedIn(s.manager)
    for (let i = 0; i < 3; i++) await s.manager.load({ token })
    assert.equal(s.store.reads, 3)
  })

  it('refuses old sessions at once on the manager that pulled the switch, and on another once its cache is older than the interval', async () => {
    const s = setup({ revocationCheckInterval: '5s' })
    const other = s.other()
    const token = await loggedIn(s.manager)
    assert.ok((await other.load({ token })).session, 'the other manager has read "no mark"')
    s.clock.advance(1000)
    await s.manager.revokeAllSessions()
    // The window the cache leaves open: up to revocationCheckInterval after the other's last read.
    s.clock.advance(3999)
    assert.ok((await other.load({ token })).session, 'still inside the other manager window')
    s.clock.advance(1)
    assert.equal((await other.load({ token })).rejected, 'revoked')
    assert.equal((await s.manager.load({ token })).session, null)
  })

  it('refuses a session created before the switch and keeps one created at or after it', async () => {
    const s = setup()
    const before = await loggedIn(s.manager)
    s.clock.advance(1)
    const at = await s.manager.revokeAllSessions()
    const after = await loggedIn(s.manager)
    assert.equal(at, s.clock.now())
    assert.equal((await s.manager.load({ token: before })).rejected, 'revoked')
    assert.ok((await s.manager.load({ token: after })).session, 'created at the switch instant')
  })

  it('keeps the mark until the longest absolute timeout of any class has passed', async () => {
    const s = setup({
      absoluteTimeout: '8h',
      classes: { admin: { secret: newSecret(), absoluteTimeout: '1h', idleTimeout: '10m' } },
    })
    const at = await s.manager.revokeAllSessions()
    assert.deepEqual(s.store.writes, [{ scope: '*', at, expiresAt: at + 8 * 3_600_000 }])
  })

  it('emits session.revoked_all once, and session.revoked (reason all) per refused session without its token or id', async () => {
    const s = setup()
    const login = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    const token = s.manager.token(login)
    s.clock.advance(1)
    await s.manager.revokeAllSessions()
    const ctx = { token, ip: '203.0.113.9', userAgent: 'agent', path: '/p' }
    assert.equal((await s.manager.load(ctx)).rejected, 'revoked')
    const switched = s.events.filter((e) => e.type === 'session.revoked_all')
    assert.deepEqual(switched, [{ time: s.clock.now(), type: 'session.revoked_all' }])
    const refused = s.events.filter((e) => e.type === 'session.revoked')
    assert.deepEqual(refused, [
      {
        time: s.clock.now(),
        type: 'session.revoked',
        reason: 'all',
        ref: login.ref,
        userId: 'alice',
        ip: '203.0.113.9',
        userAgent: 'agent',
        path: '/p',
      },
    ])
    const text = JSON.stringify(s.events)
    assert.ok(!text.includes(token) && !text.includes(login.id), 'no token or id in any event')
    assert.equal(await s.store.get(login.ref), null, 'the refused session is removed')
  })

  it('refuses revokeAllSessions on a wrapped express-session store and never reads a mark there', async () => {
    const sessions = new Map<string, unknown>()
    const wrapped: ExpressStoreLike = {
      get: (sid, cb) => cb(null, (sessions.get(sid) ?? null) as never),
      set: (sid, sess, cb) => cb(void sessions.set(sid, sess)),
      destroy: (sid, cb) => cb(void sessions.delete(sid)),
    }
    const clock = manualClock(Date.now())
    const store = fromExpressSessionStore(wrapped)
    const manager = createSessionManager({ secret: newSecret(), store, clock })
    await assert.rejects(manager.revokeAllSessions(), {
      name: 'TetherError',
      code: 'TETHER_NOT_SUPPORTED',
      message:
        'revokeAllSessions() needs a store with "not before" marks (MemoryStore, SqliteStore, ' +
        'RedisStore, PostgresStore); a wrapped express-session store has none. Replace the ' +
        'secret (and every previous one) to end every session there instead',
    })
    const session = manager.create({})
    await manager.commit(session, {}, { data: { n: 1 } })
    assert.ok((await manager.load({ token: manager.token(session) })).session)
  })

  it('refuses an invalid revocationCheckInterval at construction', () => {
    for (const bad of [-1, 'soon', '5 minutes', Number.NaN]) {
      assert.throws(
        () => createSessionManager({ secret: newSecret(), revocationCheckInterval: bad }),
        { code: 'TETHER_INVALID_OPTION', message: /^"revocationCheckInterval" must be/ },
      )
    }
  })
})
