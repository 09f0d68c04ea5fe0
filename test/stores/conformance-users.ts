/** Conformance cases for the per-user index and for awkward data; run by conformance.ts. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { SessionFields } from '../../src/stores/types.js'
import { IDLE_MS, listedKeys, makePatch, makeRecord, T0 } from './fixtures.js'
import type { MakeFixture } from './fixtures.js'

/** Cases for listByUser, destroyByUser, maxPerUser and userId changes. */
export function describeUsers(fixture: MakeFixture): void {
  it('lists the live sessions of one user only, oldest first', async function list(t) {
    const { store, clock, key, user } = await fixture(t)
    clock.t = T0 + 10_000
    await store.create(key('2'), makeRecord({ userId: user('a'), createdAt: T0 + 2000 }))
    await store.create(key('1'), makeRecord({ userId: user('a'), createdAt: T0 + 1000 }))
    await store.create(key('3'), makeRecord({ userId: user('a'), createdAt: T0 + 3000 }))
    const expired = makeRecord({ userId: user('a'), createdAt: T0 - IDLE_MS })
    await store.create(key('expired'), expired)
    await store.create(key('other'), makeRecord({ userId: user('b') }))
    await store.create(key('anonymous'), makeRecord())
    const listed = await store.listByUser(user('a'))
    assert.deepEqual(listed, [
      { key: key('1'), record: makeRecord({ userId: user('a'), createdAt: T0 + 1000 }) },
      { key: key('2'), record: makeRecord({ userId: user('a'), createdAt: T0 + 2000 }) },
      { key: key('3'), record: makeRecord({ userId: user('a'), createdAt: T0 + 3000 }) },
    ])
    assert.deepEqual(await store.listByUser(user('nobody')), [])
  })

  it('destroys every session of a user and no other', async function destroyAll(t) {
    const { store, key, user } = await fixture(t)
    for (const name of ['1', '2', '3'])
      await store.create(key(name), makeRecord({ userId: user('a') }))
    await store.create(key('other'), makeRecord({ userId: user('b') }))
    const removed = await store.destroyByUser(user('a'))
    assert.deepEqual(removed.sort(), [key('1'), key('2'), key('3')].sort())
    assert.equal(await store.get(key('1')), null)
    assert.deepEqual(await listedKeys(store, user('a')), [])
    assert.deepEqual(await listedKeys(store, user('b')), [key('other')])
  })

  it('destroys every session of a user except the one given', async function destroyOthers(t) {
    const { store, key, user } = await fixture(t)
    for (const name of ['1', '2', '3'])
      await store.create(key(name), makeRecord({ userId: user('a') }))
    const removed = await store.destroyByUser(user('a'), { except: key('2') })
    assert.deepEqual(removed.sort(), [key('1'), key('3')].sort())
    assert.deepEqual(await listedKeys(store, user('a')), [key('2')])
    assert.notEqual(await store.get(key('2')), null)
  })

  it('evicts the oldest sessions of a user beyond maxPerUser', async function evict(t) {
    const { store, key, user } = await fixture(t)
    for (const n of [1, 2, 3]) {
      const record = makeRecord({ userId: user('a'), createdAt: T0 + n })
      assert.deepEqual(await store.create(key(`${n}`), record, { maxPerUser: 3 }), [])
    }
    await store.create(key('other'), makeRecord({ userId: user('b') }))
    const evicted = await store.create(
      key('4'),
      makeRecord({ userId: user('a'), createdAt: T0 + 4 }),
      {
        maxPerUser: 3,
      },
    )
    assert.deepEqual(evicted, [key('1')])
    assert.equal(await store.get(key('1')), null)
    assert.deepEqual(await listedKeys(store, user('a')), [key('2'), key('3'), key('4')])
    assert.deepEqual(await listedKeys(store, user('b')), [key('other')])
  })

  it('never evicts the new session, even when it is the oldest', async function keepNew(t) {
    const { store, key, user } = await fixture(t)
    await store.create(key('1'), makeRecord({ userId: user('a'), createdAt: T0 + 10 }))
    await store.create(key('2'), makeRecord({ userId: user('a'), createdAt: T0 + 20 }))
    const record = makeRecord({ userId: user('a'), createdAt: T0 })
    assert.deepEqual(await store.create(key('new'), record, { maxPerUser: 2 }), [key('1')])
    assert.deepEqual(await listedKeys(store, user('a')), [key('new'), key('2')])
    const last = makeRecord({ userId: user('a'), createdAt: T0 })
    const evicted = await store.create(key('last'), last, { maxPerUser: 1 })
    assert.deepEqual(evicted, [key('new'), key('2')])
    assert.deepEqual(await listedKeys(store, user('a')), [key('last')])
  })

  it('does not count or return expired sessions for maxPerUser', async function expired(t) {
    const { store, clock, key, user } = await fixture(t)
    await store.create(key('old'), makeRecord({ userId: user('a') }))
    clock.t = T0 + IDLE_MS
    await store.create(key('1'), makeRecord({ userId: user('a'), createdAt: clock.t }))
    const record = makeRecord({ userId: user('a'), createdAt: clock.t + 1 })
    assert.deepEqual(await store.create(key('2'), record, { maxPerUser: 2 }), [])
    assert.deepEqual(await listedKeys(store, user('a')), [key('1'), key('2')])
  })

  it('never holds more than maxPerUser sessions of a user', async function bounded(t) {
    const { store, key, user } = await fixture(t)
    for (let n = 0; n < 10; n++) {
      const record = makeRecord({ userId: user('a'), createdAt: T0 + n })
      await store.create(key(`${n}`), record, { maxPerUser: 3 })
      assert.equal((await store.listByUser(user('a'))).length, Math.min(n + 1, 3))
    }
  })

  it('keeps exactly maxPerUser of 50 concurrent creates', async function concurrent(t) {
    const { store, key, user } = await fixture(t)
    const creates: Array<Promise<string[]>> = []
    const all: string[] = []
    for (let n = 0; n < 50; n++) {
      all.push(key(`${n}`))
      creates.push(store.create(key(`${n}`), makeRecord({ userId: user('a') }), { maxPerUser: 5 }))
    }
    const evicted = (await Promise.all(creates)).flat()
    const listed = await listedKeys(store, user('a'))
    assert.equal(listed.length, 5)
    assert.equal(evicted.length, 45)
    assert.deepEqual([...evicted, ...listed].sort(), all.sort())
  })

  it('moves a session to its new user when update changes userId', async function move(t) {
    const { store, key, user } = await fixture(t)
    const base = makeRecord({ userId: user('a') })
    await store.create(key('s'), base)
    await store.update(key('s'), makePatch(base, { fields: { userId: user('b') } }))
    assert.deepEqual(await listedKeys(store, user('a')), [])
    assert.deepEqual(await listedKeys(store, user('b')), [key('s')])
    assert.deepEqual(await store.destroyByUser(user('a')), [])
    assert.deepEqual(await store.destroyByUser(user('b')), [key('s')])
  })

  it('removes a session from the user index when update clears userId', async function clear(t) {
    const { store, key, user } = await fixture(t)
    const base = makeRecord({ userId: user('a') })
    await store.create(key('s'), base)
    // exactOptionalPropertyTypes forbids `userId: undefined`, yet applyPatch reads it as "clear".
    const fields = { userId: undefined } as unknown as SessionFields
    const result = await store.update(key('s'), makePatch(base, { fields }))
    assert.deepEqual(result, { ok: true, v: 2 })
    assert.equal('userId' in (await store.get(key('s')))!, false)
    assert.deepEqual(await listedKeys(store, user('a')), [])
    assert.notEqual(await store.get(key('s')), null)
  })
}

/** Cases for large, unicode and prototype-shaped data. */
export function describeData(fixture: MakeFixture): void {
  it('round-trips about 1 MB of data', async function large(t) {
    const { store, key } = await fixture(t)
    const items: Array<{ id: number; label: string }> = []
    for (let i = 0; i < 10_000; i++) items.push({ id: i, label: `item ${i} ${'·'.repeat(40)}` })
    const record = makeRecord({ data: { items, blob: 'x'.repeat(500_000) } })
    assert.ok(JSON.stringify(record).length > 1_000_000)
    await store.create(key('s'), record)
    assert.deepEqual(await store.get(key('s')), record)
  })

  it('round-trips unicode data, keys and user ids', async function unicode(t) {
    const { store, key, user } = await fixture(t)
    const data = {
      emoji: '👩🏽‍💻 🏳️‍🌈 🎉',
      cjk: '会话管理 セッション 세션',
      rtl: 'مرحبا שלום',
      combining: 'e\u0301 n\u0303',
      astral: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈',
      controls: 'tab\tnul\u0000line\u2028end',
      '键 🔑': ['値', 'ключ'],
    }
    const base = makeRecord({ userId: user('名前-🙂'), data })
    await store.create(key('s'), base)
    assert.deepEqual(await store.get(key('s')), base)
    await store.update(key('s'), makePatch(base, { set: { 'ключ 🗝️': '値 ✓' } }))
    const [listed] = await store.listByUser(user('名前-🙂'))
    assert.deepEqual(listed?.record.data, { ...data, 'ключ 🗝️': '値 ✓' })
  })

  it('stores __proto__ and constructor keys as plain data', async function prototypeKeys(t) {
    const { store, key } = await fixture(t)
    // JSON.parse creates own `__proto__` keys, as a request body parser would.
    const data = JSON.parse(
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"n":1}',
    ) as Record<string, unknown>
    const base = makeRecord({ data })
    await store.create(key('s'), base)
    const got = await store.get(key('s'))
    assert.ok(got !== null && Object.hasOwn(got.data, '__proto__'))
    assert.deepEqual(Object.getOwnPropertyDescriptor(got.data, '__proto__')?.value, {
      polluted: 'yes',
    })
    assert.equal('polluted' in got.data, false)
    const set = JSON.parse('{"__proto__":{"polluted":"again"}}') as Record<string, unknown>
    await store.update(key('s'), makePatch(base, { set, unset: ['constructor'] }))
    const updated = await store.get(key('s'))
    assert.ok(updated !== null)
    assert.deepEqual(updated.data, JSON.parse('{"__proto__":{"polluted":"again"},"n":1}'))
    assert.equal(Object.hasOwn(updated.data, 'constructor'), false)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false)
  })
}
