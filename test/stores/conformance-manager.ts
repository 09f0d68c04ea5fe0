/**
 * Conformance through the session manager: what applications do with a store (update(fn) from
 * many requests at once, concurrent logins under a cap), run unchanged on every store.
 */
import type { Clock } from '../../src/clock.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { SessionStore } from '../../src/stores/types.js'
import type { MakeFixture } from './fixtures.js'

const MIN = 60_000

export function describeThroughManager(fixture: MakeFixture): void {
  it('loses no increment when 200 requests run update(fn) on one session at once', async function counter(t) {
    const { store, clock } = await fixture(t)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const session = manager.create({})
    await manager.commit(session, {}, { data: { count: 0 } })
    await Promise.all(
      Array.from({ length: 200 }, () =>
        manager.update(
          session,
          function increment(data) {
            data['count'] = (data['count'] as number) + 1
          },
          {},
        ),
      ),
    )
    assert.equal((await store.get(session.ref))?.data['count'], 200)
  })

  it('leaves exactly the cap listed after 50 simultaneous logins of one user', async function logins(t) {
    const { store, clock, user } = await fixture(t)
    const manager = createSessionManager({
      secret: randomBytes(32),
      store,
      clock,
      maxSessionsPerUser: 5,
    })
    const userId = user('many')
    const sessions = await Promise.all(
      Array.from({ length: 50 }, () => manager.login(manager.create({}), {}, userId, {})),
    )
    const listed = await manager.listUserSessions(userId)
    assert.equal(listed.length, 5)
    const live = await Promise.all(sessions.map((s) => manager.load({ token: manager.token(s) })))
    const liveRefs = live.flatMap((o) => (o.session ? [o.session.ref] : []))
    assert.deepEqual(
      liveRefs.sort(),
      listed.map((l) => l.ref).sort(),
      'the listing is exactly the live sessions',
    )
  })

  it('renews a session under 20 parallel requests: none logged out, no write lost', async function renewal(t) {
    const { store, clock, user } = await fixture(t)
    const manager = renewingManager(store, clock)
    const userId = user('renewed')
    const login = await manager.login(manager.create({}), { n: 0 }, userId, {})
    const old = manager.token(login)
    clock.t += 16 * MIN
    const loads = await Promise.all(Array.from({ length: 20 }, () => manager.load({ token: old })))
    for (const { session, rejected } of loads) assert.ok(session, `logged out: ${rejected}`)
    await Promise.all(
      loads.map(({ session }, i) =>
        manager.commit(session!, {}, { data: { ...session!.record.data, [`k${i}`]: i } }),
      ),
    )
    const ids = new Set(loads.map(({ session }) => session!.id))
    assert.equal(ids.size, 1, 'every response ends up with the same new id')
    assert.notEqual([...ids][0], login.id)
    const head = (await manager.load({ token: manager.token(loads[0]!.session!) })).session
    assert.equal(Object.keys(head!.record.data).length, 21)
    assert.deepEqual(
      (await manager.listUserSessions(userId)).map((s) => s.ref),
      [head!.ref],
    )
    assert.equal((await manager.load({ token: old })).session?.ref, head!.ref, 'grace window')
  })

  it('leaves no session behind when "sign out everywhere" races renewals of every session', async function revokeAll(t) {
    const { store, clock, user } = await fixture(t)
    const manager = renewingManager(store, clock)
    const userId = user('everywhere')
    const tokens: string[] = []
    for (let i = 0; i < 5; i++)
      tokens.push(manager.token(await manager.login(manager.create({}), {}, userId, {})))
    clock.t += 16 * MIN
    const loads = tokens.map((token) => manager.load({ token }))
    await manager.revokeUserSessions(userId)
    const renewed = await Promise.all(loads)
    assert.deepEqual(await manager.listUserSessions(userId), [])
    for (const { session } of renewed) {
      if (session === null) continue
      const again = await manager.load({ token: manager.token(session) })
      assert.equal(again.session, null, 'a session renewed during the revocation is gone too')
    }
    for (const token of tokens) assert.equal((await manager.load({ token })).session, null)
  })

  it('ends a renewed session for both holders when the old id is replayed after the grace window', async function reuse(t) {
    const { store, clock, user } = await fixture(t)
    const manager = renewingManager(store, clock)
    const userId = user('stolen')
    const old = manager.token(await manager.login(manager.create({}), {}, userId, {}))
    clock.t += 16 * MIN
    const renewed = (await manager.load({ token: old })).session!
    await manager.commit(renewed, {}, { data: renewed.record.data })
    const token = manager.token(renewed)
    const used = (await manager.load({ token })).session!
    await manager.commit(used, {}, { data: used.record.data })
    clock.t += 2 * MIN
    assert.equal((await manager.load({ token: old })).rejected, 'reuse')
    assert.equal((await manager.load({ token })).session, null)
    assert.deepEqual(await manager.listUserSessions(userId), [])
  })

  it('refuses a session id already in use with TETHER_SESSION_ID_IN_USE naming genid, not as an outage', async function idInUse(t) {
    const { store, clock, user } = await fixture(t)
    const events: string[] = []
    const manager = createSessionManager({
      secret: randomBytes(32),
      store,
      clock,
      onEvent: (e) => events.push(e.type),
    })
    const id = randomBytes(32).toString('base64url')
    const first = manager.create({}, id)
    await manager.commit(first, {}, { data: { owner: 'first' } })
    const expected = { code: 'TETHER_SESSION_ID_IN_USE', status: 500, message: /`genid`/ }
    await assert.rejects(manager.commit(manager.create({}, id), {}, { data: { n: 1 } }), expected)
    await assert.rejects(manager.login(manager.create({}), {}, user('x'), {}, { id }), expected)
    assert.ok(!events.includes('store.error'), 'no store.error event')
    const kept = await manager.load({ token: manager.token(first) })
    assert.deepEqual({ ...kept.session?.record.data }, { owner: 'first' })
    assert.equal(kept.session?.record.userId, undefined)
  })
}

function renewingManager(store: SessionStore, clock: Clock) {
  return createSessionManager({
    secret: randomBytes(32),
    store,
    clock,
    renewAfter: '15m',
    renewGrace: '1m',
  })
}
