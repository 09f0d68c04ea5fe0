/**
 * Conformance cases for "not before" marks (`getNotBefore`/`setNotBefore`, the switch behind
 * `revokeAllSessions()`) and for a refusing session cap (`maxPerUser` with `onLimit: 'refuse'`);
 * run by conformance.ts on every store.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { SessionState } from '../../src/core/manager-types.js'
import { isTetherError } from '../../src/errors.js'
import type { TetherEvent } from '../../src/events/types.js'
import type { NotBeforeMarks, SessionStore } from '../../src/stores/types.js'
import { IDLE_MS, listedKeys, makeRecord, T0 } from './fixtures.js'
import type { MakeFixture } from './fixtures.js'

const HOUR = 3_600_000

/** The store's mark methods; every Tether store has them. */
function marksOf(store: SessionStore): NotBeforeMarks {
  const { getNotBefore, setNotBefore } = store
  assert.equal(typeof getNotBefore, 'function', 'the store implements getNotBefore')
  assert.equal(typeof setNotBefore, 'function', 'the store implements setNotBefore')
  return { getNotBefore: getNotBefore!.bind(store), setNotBefore: setNotBefore!.bind(store) }
}

/** Cases for getNotBefore / setNotBefore, and for revokeAllSessions() through two managers. */
export function describeNotBefore(fixture: MakeFixture): void {
  it('has no not-before mark for a scope nobody set', async function none(t) {
    const { store } = await fixture(t)
    assert.equal(await marksOf(store).getNotBefore('*'), null)
  })

  it('keeps a not-before mark until its expiry, then forgets it', async function expiry(t) {
    const { store, clock } = await fixture(t)
    const marks = marksOf(store)
    await marks.setNotBefore('*', T0 - 5, T0 + HOUR)
    assert.equal(await marks.getNotBefore('*'), T0 - 5)
    clock.t = T0 + HOUR - 1
    assert.equal(await marks.getNotBefore('*'), T0 - 5)
    clock.t = T0 + HOUR
    assert.equal(await marks.getNotBefore('*'), null)
  })

  it('never moves a not-before mark backwards, nor its expiry', async function forward(t) {
    const { store, clock } = await fixture(t)
    const marks = marksOf(store)
    await marks.setNotBefore('*', T0, T0 + 2 * HOUR)
    await marks.setNotBefore('*', T0 - 1000, T0 + 3 * HOUR)
    assert.equal(await marks.getNotBefore('*'), T0, 'an earlier time does not replace it')
    await marks.setNotBefore('*', T0 + 1000, T0 + HOUR)
    assert.equal(await marks.getNotBefore('*'), T0 + 1000, 'a later time does')
    clock.t = T0 + 3 * HOUR - 1
    assert.equal(await marks.getNotBefore('*'), T0 + 1000, 'the latest expiry is kept')
    clock.t = T0 + 3 * HOUR
    assert.equal(await marks.getNotBefore('*'), null)
    await marks.setNotBefore('*', T0, T0 + 4 * HOUR)
    assert.equal(await marks.getNotBefore('*'), T0, 'an expired mark is replaced')
  })

  it('keeps marks of different scopes apart from each other and from sessions', async function scopes(t) {
    const { store, key, user } = await fixture(t)
    const marks = marksOf(store)
    const record = makeRecord({ userId: user('a') })
    await store.create(key('s'), record)
    await marks.setNotBefore(key('s'), T0 + 1, T0 + HOUR)
    await marks.setNotBefore(user('a'), T0 + 2, T0 + HOUR)
    assert.equal(await marks.getNotBefore(key('s')), T0 + 1)
    assert.equal(await marks.getNotBefore(user('a')), T0 + 2)
    assert.equal(await marks.getNotBefore('*'), null)
    assert.equal(await marks.getNotBefore(`${key('s')}x`), null)
    assert.deepEqual(await store.get(key('s')), record, 'the session under the same name is intact')
    assert.deepEqual(await listedKeys(store, user('a')), [key('s')])
  })

  it('ends every session of every user on every manager of the store with revokeAllSessions()', async function everyone(t) {
    const { store, clock, user } = await fixture(t)
    const events: TetherEvent[] = []
    const options = {
      secret: randomBytes(32),
      store,
      clock,
      renewAfter: '15m',
      revocationCheckInterval: '5s',
      onEvent: (e: TetherEvent) => events.push(e),
    }
    // Two processes sharing one store.
    const first = createSessionManager(options)
    const second = createSessionManager(options)
    const a = first.token(await first.login(first.create({}), {}, user('a'), {}))
    const b = first.token(await first.login(first.create({}), {}, user('b'), {}))
    const anonymous = first.create({})
    await first.commit(anonymous, {}, { data: { cart: 1 } })
    const anon = first.token(anonymous)
    clock.t += 16 * 60_000
    const renewed = (await second.load({ token: a })).session!
    const a2 = second.token(renewed)
    assert.notEqual(a2, a, 'renewed on the second manager (same createdAt, new id)')

    clock.t += 1
    const at = await first.revokeAllSessions()
    assert.equal(at, clock.t)
    assert.deepEqual(
      events.filter((e) => e.type === 'session.revoked_all').map((e) => Object.keys(e).sort()),
      [['time', 'type']],
      'one event for the switch, naming no session',
    )
    assert.ok((await second.load({ token: a2 })).session, 'the second caches "no mark" for 5 s')
    assert.equal((await first.load({ token: b })).rejected, 'revoked')
    assert.equal((await first.load({ token: anon })).rejected, 'revoked')
    const after = first.token(await first.login(first.create({}), {}, user('a'), {}))

    clock.t += 5000
    assert.equal((await second.load({ token: a2 })).rejected, 'revoked', 'a renewed id ends too')
    for (const token of [a, a2, b, anon]) assert.equal((await second.load({ token })).session, null)
    assert.ok((await second.load({ token: after })).session, 'a login after the switch works')
    const refused = events.filter((e) => e.type === 'session.revoked' && e.reason === 'all')
    assert.equal(refused.length, 3, 'one event per refused session')
    assert.ok(refused.every((e) => e.ref !== undefined && e.ref.length < 30))
    assert.equal((await first.listUserSessions(user('a'))).length, 1, 'only the new login is left')
    assert.deepEqual(await first.listUserSessions(user('b')), [], 'refused sessions are removed')
  })
}

/** Cases for `onLimit: 'refuse'`: the new session is refused instead of the oldest evicted. */
export function describeSessionLimit(fixture: MakeFixture): void {
  it('refuses a create past maxPerUser with onLimit refuse and changes nothing', async function refuse(t) {
    const { store, key, user } = await fixture(t)
    const cap = { maxPerUser: 3, onLimit: 'refuse' } as const
    for (const n of [1, 2, 3]) {
      const record = makeRecord({ userId: user('a'), createdAt: T0 + n })
      assert.deepEqual(await store.create(key(`${n}`), record, cap), [])
    }
    await assert.rejects(
      store.create(key('4'), makeRecord({ userId: user('a'), createdAt: T0 + 4 }), cap),
      { name: 'TetherError', code: 'TETHER_SESSION_LIMIT', status: 409 },
    )
    assert.equal(await store.get(key('4')), null)
    assert.deepEqual(await listedKeys(store, user('a')), [key('1'), key('2'), key('3')])
    assert.deepEqual(await store.create(key('b'), makeRecord({ userId: user('b') }), cap), [])
    assert.deepEqual(await store.create(key('anon'), makeRecord(), cap), [], 'anonymous: no cap')
  })

  it('counts only live sessions toward a refusing cap', async function liveOnly(t) {
    const { store, clock, key, user } = await fixture(t)
    const cap = { maxPerUser: 2, onLimit: 'refuse' } as const
    await store.create(key('old'), makeRecord({ userId: user('a') }), cap)
    clock.t = T0 + IDLE_MS // `old` has expired
    await store.create(key('1'), makeRecord({ userId: user('a'), createdAt: clock.t }), cap)
    await store.create(key('2'), makeRecord({ userId: user('a'), createdAt: clock.t + 1 }), cap)
    assert.deepEqual(await listedKeys(store, user('a')), [key('1'), key('2')])
    const third = makeRecord({ userId: user('a'), createdAt: clock.t + 2 })
    await assert.rejects(store.create(key('3'), third, cap), { code: 'TETHER_SESSION_LIMIT' })
  })

  it('accepts exactly 3 of 20 concurrent creates with maxPerUser 3 and onLimit refuse', async function concurrent(t) {
    const { store, key, user } = await fixture(t)
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, n) =>
        store.create(key(`${n}`), makeRecord({ userId: user('a') }), {
          maxPerUser: 3,
          onLimit: 'refuse',
        }),
      ),
    )
    const refused = outcomes.filter((o) => o.status === 'rejected')
    assert.equal(refused.length, 17)
    for (const o of refused)
      assert.equal(isTetherError(o.reason) && o.reason.code, 'TETHER_SESSION_LIMIT')
    for (const o of outcomes) if (o.status === 'fulfilled') assert.deepEqual(o.value, [])
    assert.equal((await listedKeys(store, user('a'))).length, 3)
  })

  it('gives exactly 3 sessions and 17 refusals for 20 concurrent logins through the manager', async function logins(t) {
    const { store, clock, user } = await fixture(t)
    const manager = createSessionManager({
      secret: randomBytes(32),
      store,
      clock,
      maxSessionsPerUser: 3,
      onSessionLimit: 'refuse',
    })
    const userId = user('many')
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => manager.login(manager.create({}), {}, userId, {})),
    )
    const ok = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
    const refused = outcomes.filter((o) => o.status === 'rejected')
    assert.equal(ok.length, 3)
    assert.equal(refused.length, 17)
    for (const o of refused)
      assert.equal(isTetherError(o.reason) && o.reason.code, 'TETHER_SESSION_LIMIT')
    const listed = (await manager.listUserSessions(userId)).map((s) => s.ref).sort()
    assert.deepEqual(listed, ok.map((s: SessionState) => s.ref).sort())
  })
}
