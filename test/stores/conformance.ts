import type { Clock } from '../../src/clock.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'
import type { SessionFields, SessionRecord, SessionStore } from '../../src/stores/types.js'
import { describeThroughManager } from './conformance-manager.js'
import { describeSessionData } from './conformance-session-data.js'
import { describeNotBefore, describeSessionLimit } from './conformance-marks.js'
import { describeData, describeUsers } from './conformance-users.js'
import { IDLE_MS, listedKeys, makePatch, makeRecord, T0 } from './fixtures.js'
import type { Fixture, MakeFixture, ManualClock } from './fixtures.js'

export { makePatch, makeRecord } from './fixtures.js'

/** Opens a store over `clock`; `close` releases it and whatever the test created. */
export type OpenStore = (clock: Clock) => Promise<{ store: SessionStore; close(): Promise<void> }>

/** Runs the Store contract (src/stores/types.ts) against a store; `open` is called once per test. */
export function describeStoreConformance(
  name: string,
  open: OpenStore,
  opts: { skip?: string | false } = {},
): void {
  async function fixture(t: TestContext): Promise<Fixture> {
    const clock: ManualClock = {
      t: T0,
      now() {
        return this.t
      },
    }
    const opened = await open(clock)
    t.after(function closeStore() {
      return opened.close()
    })
    const prefix = randomBytes(6).toString('hex')
    return {
      store: opened.store,
      clock,
      key: (keyName) => `${prefix}-${keyName}`,
      user: (userName) => `${prefix}-user-${userName}`,
    }
  }

  describe(`${name} conformance`, { skip: opts.skip ?? false }, function conformance() {
    describeRecords(fixture)
    describeUpdates(fixture)
    describeExpiry(fixture)
    describeEnding(fixture)
    describeUsers(fixture)
    describeData(fixture)
    describeThroughManager(fixture)
    describeSessionData(fixture)
    describeNotBefore(fixture)
    describeSessionLimit(fixture)
  })
}

function describeRecords(fixture: MakeFixture): void {
  it('returns an equal record from get that callers cannot mutate', async function roundTrip(t) {
    const { store, key, user } = await fixture(t)
    const record = makeRecord({ userId: user('a'), data: { n: 1, cart: { items: [1, 2] } } })
    const expected = structuredClone(record)
    await store.create(key('s'), record)
    record.data.n = 99
    const got = await store.get(key('s'))
    assert.deepEqual(got, expected)
    got.data.n = 7
    ;(got.data.cart as { items: number[] }).items.push(3)
    assert.deepEqual(await store.get(key('s')), expected)
  })

  it('returns records and listings that callers cannot mutate', async function copies(t) {
    const { store, key, user } = await fixture(t)
    const base = makeRecord({ userId: user('a'), data: { list: [1] } })
    await store.create(key('s'), base)
    const set: Record<string, unknown> = { n: 1 }
    assert.deepEqual(await store.update(key('s'), makePatch(base, { set })), { ok: true, v: 2 })
    set['n'] = 2
    ;((await store.get(key('s')))!.data.list as number[]).push(2)
    const [listed] = await store.listByUser(user('a'))
    listed!.record.data.n = 2
    assert.deepEqual((await store.get(key('s')))?.data, { list: [1], n: 1 })
  })

  it('returns null for an unknown key', async function unknownKey(t) {
    const { store, key } = await fixture(t)
    assert.equal(await store.get(key('never-created')), null)
  })

  it('rejects a create on a key that holds a live session', async function duplicate(t) {
    const { store, key } = await fixture(t)
    await store.create(key('s'), makeRecord({ data: { first: true } }))
    await assert.rejects(store.create(key('s'), makeRecord({ data: { first: false } })))
    assert.deepEqual((await store.get(key('s')))?.data, { first: true })
  })

  it('tells a taken key apart from an outage: TETHER_SESSION_ID_IN_USE, with or without a user', async function taken(t) {
    const { store, key, user } = await fixture(t)
    const first = makeRecord({ userId: user('a'), data: { first: true } })
    await store.create(key('s'), first)
    // One after another: each is refused on its own, never as a side effect of another.
    const again: (() => Promise<unknown>)[] = [
      () => store.create(key('s'), makeRecord({ data: { first: false } })),
      () => store.create(key('s'), makeRecord({ userId: user('b') })),
      () => store.create(key('s'), makeRecord({ userId: user('a') }), { maxPerUser: 1 }),
    ]
    for (const attempt of again) await assert.rejects(attempt, { code: 'TETHER_SESSION_ID_IN_USE' })
    assert.deepEqual(await store.get(key('s')), first)
    assert.deepEqual(
      await listedKeys(store, user('a')),
      [key('s')],
      'not evicted by the refused create',
    )
    assert.deepEqual(await listedKeys(store, user('b')), [])
  })

  it('replaces an expired session on create under the same key', async function reuse(t) {
    const { store, clock, key } = await fixture(t)
    await store.create(key('s'), makeRecord({ data: { first: true } }))
    clock.t = T0 + IDLE_MS
    const fresh = makeRecord({ createdAt: clock.t, data: { first: false } })
    await store.create(key('s'), fresh)
    assert.deepEqual(await store.get(key('s')), fresh)
  })

  it('removes a destroyed session and ignores unknown keys', async function destroy(t) {
    const { store, key, user } = await fixture(t)
    await store.create(key('gone'), makeRecord({ userId: user('a') }))
    await store.create(key('kept'), makeRecord({ userId: user('a') }))
    await store.destroy(key('gone'))
    await store.destroy(key('gone'))
    await store.destroy(key('never-created'))
    assert.equal(await store.get(key('gone')), null)
    assert.notEqual(await store.get(key('kept')), null)
    assert.deepEqual(await listedKeys(store, user('a')), [key('kept')])
  })
}

function describeUpdates(fixture: MakeFixture): void {
  it('keeps both changes when patches from one base change different keys', async function merge(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord({ data: { a: 0, b: 0 } })
    await store.create(key('s'), base)
    await store.update(key('s'), makePatch(base, { set: { a: 1 } }))
    await store.update(key('s'), makePatch(base, { set: { b: 2, c: 3 } }))
    assert.deepEqual((await store.get(key('s')))?.data, { a: 1, b: 2, c: 3 })
  })

  it('deletes the keys in unset and keeps the others', async function unset(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord({ data: { a: 1, b: 2, c: 3 } })
    await store.create(key('s'), base)
    await store.update(key('s'), makePatch(base, { unset: ['b', 'absent'] }))
    assert.deepEqual((await store.get(key('s')))?.data, { a: 1, c: 3 })
  })

  it('keeps the last write when two patches set the same key', async function lastWins(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord({ data: { a: 'base' } })
    await store.create(key('s'), base)
    await store.update(key('s'), makePatch(base, { set: { a: 'first' } }))
    await store.update(key('s'), makePatch(base, { set: { a: 'second' } }))
    assert.deepEqual((await store.get(key('s')))?.data, { a: 'second' })
  })

  it('increments v on every update and returns the new version', async function version(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord()
    await store.create(key('s'), base)
    for (const expected of [2, 3, 4]) {
      const result = await store.update(key('s'), makePatch(base, { set: { n: expected } }))
      assert.deepEqual(result, { ok: true, v: expected })
      assert.deepEqual(await store.get(key('s')), { ...base, v: expected, data: { n: expected } })
    }
  })

  it('writes only when ifVersion matches the stored v', async function ifVersion(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord({ data: { n: 0 } })
    await store.create(key('s'), base)
    const patch = makePatch(base, { set: { n: 1 } })
    assert.deepEqual(await store.update(key('s'), patch, { ifVersion: 2 }), {
      ok: false,
      reason: 'conflict',
    })
    assert.deepEqual(await store.get(key('s')), base)
    const result = await store.update(key('s'), patch, { ifVersion: 1 })
    assert.deepEqual(result, { ok: true, v: 2 })
    assert.deepEqual(await store.get(key('s')), { ...base, v: 2, data: { n: 1 } })
    const stale = await store.update(key('s'), patch, { ifVersion: 1 })
    assert.deepEqual(stale, { ok: false, reason: 'conflict' })
  })

  it('assigns fields and times from the patch', async function fields(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord()
    await store.create(key('s'), base)
    const times = { lastSeenAt: T0 + 5, idleExpiresAt: T0 + 5 + IDLE_MS }
    const changed: SessionFields = { authAt: T0 + 5, meta: { ua: 'curl/8', ipPrefix: '10.0.0' } }
    await store.update(key('s'), makePatch(base, { fields: changed, times }))
    assert.deepEqual(await store.get(key('s')), { ...base, ...changed, ...times, v: 2 })
  })

  it('refuses an update computed from a record that has since expired, and does not revive it', async function lateUpdate(t) {
    const { store, clock, key } = await fixture(t)
    const base = makeRecord({ data: { a: 1 } })
    await store.create(key('s'), base)
    clock.t = base.idleExpiresAt
    const times = { lastSeenAt: clock.t, idleExpiresAt: clock.t + IDLE_MS }
    // At the version it was read at: a store that writes `next` as is must still check liveness.
    const patch = makePatch(base, { set: { a: 2 }, times })
    assert.deepEqual(await store.update(key('s'), patch), { ok: false, reason: 'missing' })
    assert.deepEqual(await store.update(key('s'), patch, { ifVersion: 1 }), {
      ok: false,
      reason: 'missing',
    })
    assert.equal(await store.get(key('s')), null)
  })

  it('reports a missing session to update and touch without creating it', async function missing(t) {
    const { store, key } = await fixture(t)
    const patch = makePatch(makeRecord(), { set: { a: 1 } })
    assert.deepEqual(await store.update(key('s'), patch), { ok: false, reason: 'missing' })
    assert.equal(await store.touch(key('s'), patch.times), false)
    assert.equal(await store.get(key('s')), null)
  })

  it('extends idleExpiresAt on touch and keeps v and data', async function touch(t) {
    const { store, clock, key } = await fixture(t)
    const base = makeRecord({ data: { a: 1 } })
    await store.create(key('s'), base)
    clock.t = T0 + IDLE_MS - 1
    const times = { lastSeenAt: clock.t, idleExpiresAt: clock.t + IDLE_MS }
    assert.equal(await store.touch(key('s'), times), true)
    clock.t = T0 + IDLE_MS + 1
    assert.deepEqual(await store.get(key('s')), { ...base, ...times })
  })

  it('keeps all of 200 concurrent patches to different keys', async function concurrent(t) {
    const { store, key } = await fixture(t)
    const base = makeRecord()
    await store.create(key('s'), base)
    const updates: Array<Promise<unknown>> = []
    const expected: Record<string, number> = {}
    for (let i = 0; i < 200; i++) {
      expected[`k${i}`] = i
      updates.push(store.update(key('s'), makePatch(base, { set: { [`k${i}`]: i } })))
    }
    await Promise.all(updates)
    const stored = await store.get(key('s'))
    assert.deepEqual(stored?.data, expected)
    assert.equal(stored?.v, 201)
  })
}

function describeExpiry(fixture: MakeFixture): void {
  it('treats a session as missing from its idleExpiresAt on', async function idle(t) {
    const { store, clock, key, user } = await fixture(t)
    const base = makeRecord()
    await createForEachOperation(store, key, user, base)
    clock.t = base.idleExpiresAt - 1
    assert.deepEqual(await store.get(key('get')), { ...base, userId: user('get') })
    clock.t = base.idleExpiresAt
    await assertMissing(store, key, user, base)
  })

  it('treats a session as missing from its absoluteExpiresAt on', async function absolute(t) {
    const { store, clock, key, user } = await fixture(t)
    const base = makeRecord({ absoluteExpiresAt: T0 + 2 * IDLE_MS })
    await createForEachOperation(store, key, user, base)
    clock.t = base.idleExpiresAt - 1
    for (const name of OPERATIONS) {
      const times = { lastSeenAt: clock.t, idleExpiresAt: clock.t + 10 * IDLE_MS }
      assert.equal(await store.touch(key(name), times), true)
    }
    clock.t = base.absoluteExpiresAt - 1
    assert.notEqual(await store.get(key('get')), null)
    clock.t = base.absoluteExpiresAt
    await assertMissing(store, key, user, base)
  })
}

function describeEnding(fixture: MakeFixture): void {
  it('ends a session whose update moves its expiry into the past (as renewal ends an id)', async function endByUpdate(t) {
    const { store, key, user } = await fixture(t)
    const base = makeRecord({ data: { a: 1 } })
    await createForEachOperation(store, key, user, base)
    for (const name of OPERATIONS) {
      const current = { ...base, userId: user(name) }
      const end = makePatch(current, {
        fields: { userId: undefined },
        times: { lastSeenAt: base.lastSeenAt, idleExpiresAt: 0 },
      })
      assert.equal((await store.update(key(name), end, { ifVersion: 1 })).ok, true)
    }
    await assertMissing(store, key, user, base)
    // The key is free again, and the same key with a suffix is a key of its own.
    await store.create(key('get'), base)
    assert.deepEqual(await store.get(key('get')), base)
    assert.equal(await store.get(`${key('get')}.renewed`), null)
  })
}

// One session per operation, so no operation sees a record another one already dropped.
const OPERATIONS = ['get', 'update', 'touch', 'list', 'destroyByUser'] as const

async function createForEachOperation(
  store: SessionStore,
  key: Fixture['key'],
  user: Fixture['user'],
  base: SessionRecord,
): Promise<void> {
  for (const name of OPERATIONS) await store.create(key(name), { ...base, userId: user(name) })
}

async function assertMissing(
  store: SessionStore,
  key: Fixture['key'],
  user: Fixture['user'],
  base: SessionRecord,
): Promise<void> {
  assert.equal(await store.get(key('get')), null)
  const patch = makePatch(base, { set: { late: true } })
  assert.deepEqual(await store.update(key('update'), patch), { ok: false, reason: 'missing' })
  assert.equal(await store.touch(key('touch'), { lastSeenAt: T0, idleExpiresAt: T0 + 9e9 }), false)
  assert.deepEqual(await store.listByUser(user('list')), [])
  assert.deepEqual(await store.destroyByUser(user('destroyByUser')), [])
}
