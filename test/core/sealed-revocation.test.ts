/**
 * Revocation of sealed sessions without a record per session (src/core/sealed/revocation.ts):
 * per-user, per-session and global "not before" marks in the revocation store, read through a
 * per-process cache. Two managers sharing one revocation store stand for two processes; the clock
 * is injected, so the window the cache leaves open is measured, not slept through.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import {
  loadedData,
  newSecret,
  sealedLogin,
  sealedSession,
  sealedSetup,
} from '../helpers/sealed.js'

describe('sealed revocation: per user', () => {
  it('ends every session of a user in every process, the others within revocationCheckInterval', async () => {
    const s = sealedSetup({ revocationCheckInterval: '5s' })
    const other = s.other()
    const phone = await sealedLogin(s.manager, 'alice')
    const laptop = await sealedLogin(other, 'alice')
    const bob = await sealedLogin(s.manager, 'bob')
    assert.ok(await loadedData(other, phone.token), 'the other process has read "no mark"')
    s.clock.advance(1000)
    assert.equal(await s.manager.revokeUserSessions('alice'), 0, 'sealed sessions are not counted')
    assert.equal((await s.manager.load(s.ctx(phone.token))).rejected, 'revoked', 'at once here')
    assert.equal((await s.manager.load(s.ctx(laptop.token))).rejected, 'revoked')
    // The window the other process's cache leaves open: up to the interval after its last read.
    s.clock.advance(3999)
    assert.ok(await loadedData(other, phone.token), 'still inside the other process window')
    s.clock.advance(1)
    assert.equal(await loadedData(other, phone.token), null)
    assert.equal(await loadedData(other, laptop.token), null)
    assert.ok(await loadedData(other, bob.token), 'another user is untouched')
    const fresh = await sealedLogin(other, 'alice')
    assert.ok(await loadedData(s.manager, fresh.token), 'a login after the mark works')
  })

  it('keeps the session named by except, in every process, and its next token carries that', async () => {
    const s = sealedSetup({ revocationCheckInterval: 0 })
    const other = s.other()
    const current = await sealedLogin(s.manager, 'alice')
    const elsewhere = await sealedLogin(s.manager, 'alice')
    s.clock.advance(1000)
    await s.manager.revokeUserSessions('alice', { except: current.session.ref })
    assert.equal(await loadedData(other, elsewhere.token), null)
    const kept = (await other.load(s.ctx(current.token))).session!
    assert.ok(kept, 'the session kept')
    assert.equal(kept.needsCookie, true, 'its next token carries the mark it was kept through')
    await other.commit(kept, s.ctx(), { data: {} })
    const next = other.token(kept)
    const readsBefore = s.marks.reads
    assert.ok(await loadedData(s.manager, next))
    assert.equal(s.marks.reads - readsBefore, 3, 'the marks only: no second look at the exception')
    // A later revocation without an exception ends it too.
    s.clock.advance(1000)
    await other.revokeUserSessions('alice')
    assert.equal(await loadedData(s.manager, next), null)
  })

  it('emits session.revoked (reason user) at the call, and session.unknown (reason revoked) per refused token', async () => {
    const s = sealedSetup()
    const { session, token } = await sealedLogin(s.manager, 'alice')
    s.clock.advance(1)
    await s.manager.revokeUserSessions('alice')
    await s.manager.load(s.ctx(token))
    const revoked = s.events.filter((e) => e.type === 'session.revoked')
    assert.deepEqual(
      revoked.map((e) => [e.reason, e.userId, e.ref]),
      [['user', 'alice', undefined]],
    )
    const refused = s.events.filter((e) => e.type === 'session.unknown')
    assert.deepEqual(
      refused.map((e) => [e.reason, e.userId, e.ref]),
      [['revoked', 'alice', session.ref]],
    )
  })
})

describe('sealed revocation: one session, and everyone', () => {
  it('revokeSession(ref) ends that session and its copies, and refuses an ownership check it cannot make', async () => {
    const s = sealedSetup()
    const mine = await sealedLogin(s.manager, 'alice')
    const other = await sealedLogin(s.manager, 'alice')
    assert.equal(await s.manager.revokeSession(mine.session.ref), true)
    assert.equal(await s.manager.revokeSession('not a ref'), false)
    assert.equal(await loadedData(s.manager, mine.token), null)
    assert.ok(await loadedData(s.manager, other.token))
    await assert.rejects(s.manager.revokeSession(other.session.ref, { userId: 'alice' }), {
      code: 'TETHER_NOT_SUPPORTED',
      message: /^revokeSession\(ref, \{ userId \}\) cannot check who owns a sealed session/,
    })
  })

  it('revokeAllSessions() ends every session created before it, as in stored mode', async () => {
    const s = sealedSetup()
    const other = s.other()
    const before = await sealedSession(s)
    s.clock.advance(1)
    await other.revokeAllSessions()
    s.clock.advance(5000)
    assert.equal((await s.manager.load(s.ctx(before.token))).rejected, 'revoked')
    assert.ok(s.events.some((e) => e.type === 'session.revoked' && e.reason === 'all'))
    const after = await sealedSession(s)
    assert.ok(await loadedData(s.manager, after.token))
  })

  it('reads each mark at most once per interval, however many requests come', async () => {
    const s = sealedSetup({ revocationCheckInterval: '5s' })
    const { token } = await sealedLogin(s.manager, 'alice')
    const loads = await Promise.all(Array.from({ length: 30 }, () => s.manager.load(s.ctx(token))))
    assert.ok(loads.every((o) => o.session !== null))
    assert.equal(s.marks.reads, 3, 'everyone, the session and the user: one read each')
    s.clock.advance(4999)
    await s.manager.load(s.ctx(token))
    assert.equal(s.marks.reads, 3)
    s.clock.advance(1)
    await s.manager.load(s.ctx(token))
    assert.equal(s.marks.reads, 6)
  })

  it('fails closed when the revocation store is down, or goes on anonymous with onStoreError', async () => {
    const s = sealedSetup()
    const { token } = await sealedLogin(s.manager, 'alice')
    s.marks.failing = true
    await assert.rejects(s.manager.load(s.ctx(token)), { code: 'TETHER_STORE_UNAVAILABLE' })
    assert.ok(s.events.some((e) => e.type === 'store.error' && e.reason === 'getNotBefore'))
    const lenient = s.other({ onStoreError: 'anonymous' })
    assert.equal((await lenient.load(s.ctx(token))).rejected, 'store_error')
  })

  it('owns and closes its default revocation store, one per manager', async () => {
    const a = createSessionManager({ secret: newSecret(), store: 'sealed' })
    assert.equal(a.options.ownsStore, true)
    assert.equal(typeof a.options.store.getNotBefore, 'function')
    await a.close()
    const s = sealedSetup()
    assert.equal(s.manager.options.ownsStore, false, 'a revocationStore passed in is the caller’s')
  })
})
