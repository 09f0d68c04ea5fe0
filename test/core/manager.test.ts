import { systemClock } from '../../src/clock.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { tamper } from '../helpers/tamper.js'

const MIN = 60_000

function setup(extra: Partial<ManagerOptions> = {}, storeClock = systemClock) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore({ clock: storeClock }))
  const secret = newSecret()
  const manager = createSessionManager({
    secret,
    store,
    clock,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const ctx = (token?: string): RequestContext => ({
    token,
    ip: '203.0.113.9',
    userAgent: 'test-agent',
    path: '/p',
  })
  return { clock, events, store, manager, ctx, secret }
}

async function storedSession(
  s: ReturnType<typeof setup>,
  data: Record<string, unknown> = { n: 1 },
) {
  const session = s.manager.create(s.ctx())
  assert.equal(await s.manager.commit(session, s.ctx(), { data }), 'created')
  return { session, token: s.manager.token(session) }
}

describe('manager.load', () => {
  it('verifies a repeated cookie once, yet reads the store and refuses a variant every time', async (t) => {
    const s = setup()
    const { token, session } = await storedSession(s)
    // One key lookup per full verification (the HMAC); a kept token needs none.
    const lookups = t.mock.method(s.manager.options.keys as Map<string, unknown>, 'get')
    const gets = s.store.calls.get
    for (let i = 0; i < 3; i++) assert.ok((await s.manager.load(s.ctx(token))).session)
    assert.equal(lookups.mock.callCount(), 1, 'verified once')
    assert.equal(s.store.calls.get, gets + 3, 'the record is read on every request')
    assert.equal((await s.manager.load(s.ctx(tamper(token)))).rejected, 'forged')
    assert.equal(lookups.mock.callCount(), 2, 'a variant is verified in full')
    // Kept, but its session ended: the store says so.
    await s.manager.destroy(session, s.ctx(token))
    assert.equal((await s.manager.load(s.ctx(token))).session, null)
    // Kept, but past its absolute lifetime: expired without a store read.
    const after = s.store.calls.get
    s.clock.advance(8 * 60 * MIN)
    assert.equal((await s.manager.load(s.ctx(token))).rejected, 'expired_absolute')
    assert.equal(s.store.calls.get, after)
  })

  it('does no store I/O for a request without a cookie', async () => {
    const s = setup()
    assert.deepEqual(await s.manager.load(s.ctx()), { session: null, rejected: 'none' })
    assert.equal(s.store.total(), 0)
  })

  it('rejects forged, malformed and unknown-key cookies without reading the store', async () => {
    const s = setup()
    const { token } = await storedSession(s)
    const before = s.store.total()
    const other = setup()
    const foreign = other.manager.token(other.manager.create(other.ctx()))
    const cases: [string, string][] = [
      [tamper(token), 'token.forged'],
      ['garbage', 'token.malformed'],
      [foreign, 'token.unknown_key'],
    ]
    for (const [value, type] of cases) {
      const out = await s.manager.load(s.ctx(value))
      assert.equal(out.session, null)
      assert.equal(s.events.at(-1)?.type, type)
    }
    assert.equal(s.store.total(), before, 'no store call for a rejected cookie')
  })

  it('loads a stored session by its signed cookie', async () => {
    const s = setup()
    const { session, token } = await storedSession(s, { cart: ['a'] })
    const out = await s.manager.load(s.ctx(token))
    assert.ok(out.session)
    assert.equal(out.session.id, session.id)
    assert.deepEqual({ ...out.session.record.data }, { cart: ['a'] })
  })

  it('expires a session after the idle timeout and emits session.expired_idle', async () => {
    // The store keeps real time, so the record is still there for the manager's own check.
    const s = setup({ idleTimeout: '30m', touchAfter: '1m' })
    const { token } = await storedSession(s)
    s.clock.advance(30 * MIN + 1 * MIN - 1)
    assert.ok((await s.manager.load(s.ctx(token))).session, 'alive until idle timeout + touchAfter')
    s.clock.advance(1)
    const out = await s.manager.load(s.ctx(token))
    assert.deepEqual(out, { session: null, rejected: 'expired_idle' })
    assert.equal(s.events.at(-1)?.type, 'session.expired_idle')
    assert.equal(s.store.calls.destroy, 1, 'the expired record is removed')
  })

  it('expires a session at the absolute timeout before any store I/O, however active it was', async () => {
    const s = setup({ idleTimeout: '30m', absoluteTimeout: '2h', touchAfter: '1m' })
    let { session } = await storedSession(s)
    const token = s.manager.token(session)
    for (let t = 0; t < 2 * 60; t += 10) {
      s.clock.advance(10 * MIN)
      const out = await s.manager.load(s.ctx(token))
      if (!out.session) break
      session = out.session
      await s.manager.commit(session, s.ctx(), { data: { n: t } })
    }
    const reads = s.store.calls.get
    const out = await s.manager.load(s.ctx(token))
    assert.deepEqual(out, { session: null, rejected: 'expired_absolute' })
    assert.equal(s.events.at(-1)?.type, 'session.expired_absolute')
    assert.equal(s.store.calls.get, reads, 'decided from the signed creation time, no store read')
  })

  it('keeps the creation time when the cookie is re-signed after rotation', async () => {
    const s = setup()
    const { session } = await storedSession(s)
    const rotated = createSessionManager({
      secret: [newSecret(), s.secret],
      store: s.store,
      clock: s.clock,
    })
    const out = await rotated.load(s.ctx(s.manager.token(session)))
    assert.ok(out.session)
    assert.equal(out.session.needsCookie, true, 'signed with an old key, so re-sent')
    const resigned = rotated.token(out.session)
    assert.notEqual(resigned, s.manager.token(session))
    assert.equal(
      resigned.split('.')[2],
      s.manager.token(session).split('.')[2],
      'same creation time',
    )
  })

  it('treats a valid cookie whose session is gone as no session', async () => {
    const s = setup()
    const { session, token } = await storedSession(s)
    await s.manager.destroy(session, s.ctx())
    assert.deepEqual(await s.manager.load(s.ctx(token)), { session: null, rejected: 'not_found' })
  })
})

describe('manager.commit', () => {
  it('does not store a new session that holds no data', async () => {
    const s = setup()
    const session = s.manager.create(s.ctx())
    assert.equal(await s.manager.commit(session, s.ctx(), { data: {} }), 'none')
    assert.equal(s.store.total(), 0)
  })

  it('writes an unmodified session at most once per touchAfter (lazy touch)', async () => {
    const s = setup({ idleTimeout: '1h', touchAfter: '5m' })
    const { token } = await storedSession(s)
    const outcomes: string[] = []
    for (let i = 0; i < 12; i++) {
      s.clock.advance(MIN)
      const { session } = await s.manager.load(s.ctx(token))
      assert.ok(session)
      outcomes.push(await s.manager.commit(session, s.ctx(), { data: { ...session.record.data } }))
    }
    assert.equal(outcomes.filter((o) => o === 'touched').length, 2)
    assert.equal(s.store.calls.update, 0)
  })

  it('never expires an active user early and always expires an idle one (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 29 * MIN }), { minLength: 1, maxLength: 15 }),
        async (gaps) => {
          const s = setup({ idleTimeout: '30m', absoluteTimeout: '24h', touchAfter: '2m' })
          const { token } = await storedSession(s)
          for (const gap of gaps) {
            s.clock.advance(gap)
            const { session } = await s.manager.load(s.ctx(token))
            if (!session) return false // logged out although never idle for 30 min
            await s.manager.commit(session, s.ctx(), { data: { ...session.record.data } })
          }
          s.clock.advance(32 * MIN)
          return (await s.manager.load(s.ctx(token))).session === null
        },
      ),
      { numRuns: 60 },
    )
  })

  it('caps the server expiry at the cookie expiry', async () => {
    const s = setup()
    const session = s.manager.create(s.ctx())
    await s.manager.commit(session, s.ctx(), {
      data: { a: 1 },
      cookieExpiresAt: s.clock.now() + 5000,
    })
    assert.equal(session.record.idleExpiresAt, s.clock.now() + 5000)
  })

  it('sends only changed and deleted keys, so two requests changing different keys both persist', async () => {
    const s = setup()
    const { token } = await storedSession(s, { a: 0, b: 0, gone: true })
    const r1 = (await s.manager.load(s.ctx(token))).session!
    const r2 = (await s.manager.load(s.ctx(token))).session!
    await s.manager.commit(r1, s.ctx(), { data: { a: 1, b: 0, gone: true } })
    await s.manager.commit(r2, s.ctx(), { data: { a: 0, b: 2 } })
    const final = (await s.manager.load(s.ctx(token))).session!
    assert.deepEqual({ ...final.record.data }, { a: 1, b: 2 })
  })

  it('refuses data over maxSessionBytes with TETHER_SESSION_TOO_LARGE', async () => {
    const s = setup({ maxSessionBytes: 1000 })
    const session = s.manager.create(s.ctx())
    await assert.rejects(s.manager.commit(session, s.ctx(), { data: { big: 'x'.repeat(2000) } }), {
      code: 'TETHER_SESSION_TOO_LARGE',
    })
  })
})

describe('manager.login', () => {
  it('gives a new id, removes the old record, records authAt and the user index', async () => {
    const s = setup()
    const { session } = await storedSession(s, { cart: [1] })
    s.clock.advance(1000)
    const next = await s.manager.login(session, { cart: [1] }, 'alice', s.ctx())
    assert.notEqual(next.id, session.id)
    assert.deepEqual(await s.store.get(session.ref), null, 'old record gone')
    assert.equal(next.record.authAt, s.clock.now())
    assert.equal(next.record.meta.ipPrefix, '203.0.113.0/24')
    const list = await s.manager.listUserSessions('alice', { current: next.ref })
    assert.deepEqual(
      list.map((x) => [x.ref, x.current]),
      [[next.ref, true]],
    )
    assert.equal(s.events.at(-1)?.type, 'session.login')
  })

  it('evicts the oldest session past maxSessionsPerUser with session.revoked reason cap', async () => {
    const s = setup({ maxSessionsPerUser: 2 })
    const refs: string[] = []
    for (let i = 0; i < 3; i++) {
      s.clock.advance(1000)
      refs.push((await s.manager.login(s.manager.create(s.ctx()), {}, 'bob', s.ctx())).ref)
    }
    const listed = (await s.manager.listUserSessions('bob')).map((x) => x.ref)
    assert.deepEqual(listed, refs.slice(1))
    const revoked = s.events.find((e) => e.type === 'session.revoked')
    assert.equal(revoked?.reason, 'cap')
    assert.equal(revoked?.ref, refs[0])
  })

  it('refuses an unknown session class', async () => {
    const s = setup()
    await assert.rejects(
      s.manager.login(s.manager.create(s.ctx()), {}, 'a', s.ctx(), { class: 'admin' }),
      { code: 'TETHER_INVALID_OPTION' },
    )
  })
})

describe('session classes', () => {
  it('ends every admin session and no other when the admin secret is removed', async () => {
    const adminSecret = newSecret()
    const s = setup({ classes: { admin: { secret: adminSecret, idleTimeout: '5m' } } })
    const user = await s.manager.login(s.manager.create(s.ctx()), {}, 'u', s.ctx())
    const admin = await s.manager.login(s.manager.create(s.ctx()), {}, 'a', s.ctx(), {
      class: 'admin',
    })
    assert.equal(admin.record.sessionClass, 'admin')
    assert.equal(admin.record.idleExpiresAt - s.clock.now(), 5 * MIN + MIN / 2)
    const killed = createSessionManager({
      secret: s.secret,
      store: s.store,
      clock: s.clock,
      classes: { admin: { secret: newSecret() } },
    })
    assert.ok((await killed.load(s.ctx(s.manager.token(user)))).session)
    assert.equal((await killed.load(s.ctx(s.manager.token(admin)))).rejected, 'unknown_key')
  })
})

describe('revocation', () => {
  it('revokes one session by ref only for its owner', async () => {
    const s = setup()
    const a = await s.manager.login(s.manager.create(s.ctx()), {}, 'alice', s.ctx())
    assert.equal(await s.manager.revokeSession(a.ref, { userId: 'mallory' }), false)
    assert.equal(await s.manager.revokeSession('not a ref'), false)
    assert.equal(await s.manager.revokeSession(a.ref, { userId: 'alice' }), true)
    assert.equal((await s.manager.load(s.ctx(s.manager.token(a)))).session, null)
  })

  it('revokes every other session of a user', async () => {
    const s = setup()
    const keep = await s.manager.login(s.manager.create(s.ctx()), {}, 'alice', s.ctx())
    const drop = await s.manager.login(s.manager.create(s.ctx()), {}, 'alice', s.ctx())
    assert.equal(await s.manager.revokeUserSessions('alice', { except: keep.ref }), 1)
    assert.ok((await s.manager.load(s.ctx(s.manager.token(keep)))).session)
    assert.equal((await s.manager.load(s.ctx(s.manager.token(drop)))).session, null)
  })
})

describe('manager.update', () => {
  it('loses no increment under 200 concurrent read-modify-writes', async () => {
    const s = setup()
    const { session } = await storedSession(s, { count: 0 })
    await Promise.all(
      Array.from({ length: 200 }, () =>
        s.manager.update(
          session,
          (data) => {
            data['count'] = (data['count'] as number) + 1
          },
          s.ctx(),
        ),
      ),
    )
    const record = await s.store.get(session.ref)
    assert.equal(record?.data['count'], 200)
  })

  it('fails with TETHER_SESSION_NOT_FOUND when the session is gone', async () => {
    const s = setup()
    const { session } = await storedSession(s)
    await s.manager.destroy(session, s.ctx())
    await assert.rejects(
      s.manager.update(session, () => {}, s.ctx()),
      { code: 'TETHER_SESSION_NOT_FOUND' },
    )
  })
})

describe('store failures', () => {
  it('fail closed by default: TETHER_STORE_UNAVAILABLE with the cause, and a store.error event', async () => {
    const s = setup()
    const { token } = await storedSession(s)
    s.store.failing = true
    await assert.rejects(
      s.manager.load(s.ctx(token)),
      (err: Error & { code?: string; status?: number; cause?: unknown; headers?: unknown }) => {
        assert.equal(err.code, 'TETHER_STORE_UNAVAILABLE')
        assert.equal(err.status, 503)
        assert.deepEqual(err.headers, { 'Retry-After': '1' })
        assert.match(String((err.cause as Error).message), /store is down/)
        return true
      },
    )
    assert.equal(s.events.at(-1)?.type, 'store.error')
    s.store.failing = false
    assert.ok(
      (await s.manager.load(s.ctx(token))).session,
      'service resumes when the store is back',
    )
  })

  it('goes on without a session when onStoreError is anonymous', async () => {
    const s = setup({ onStoreError: 'anonymous' })
    const { token } = await storedSession(s)
    s.store.failing = true
    assert.deepEqual(await s.manager.load(s.ctx(token)), { session: null, rejected: 'store_error' })
  })

  it('emits store.error once per failure burst, and again after the store came back', async () => {
    const s = setup()
    const { token } = await storedSession(s)
    const errors = () => s.events.filter((e) => e.type === 'store.error').length
    s.store.failing = true
    for (let i = 0; i < 5; i++) {
      await assert.rejects(s.manager.load(s.ctx(token)), { code: 'TETHER_STORE_UNAVAILABLE' })
    }
    assert.equal(errors(), 1, 'five failed requests in one outage: one event')
    s.store.failing = false
    assert.ok((await s.manager.load(s.ctx(token))).session)
    s.store.failing = true
    await assert.rejects(s.manager.load(s.ctx(token)), { code: 'TETHER_STORE_UNAVAILABLE' })
    await assert.rejects(s.manager.load(s.ctx(token)), { code: 'TETHER_STORE_UNAVAILABLE' })
    assert.equal(errors(), 2, 'a new outage after a success: a new event')
  })

  it('times out a store that never answers', async () => {
    const clock = manualClock()
    const hanging = spyStore(new MemoryStore())
    hanging.get = () => new Promise(() => {})
    const manager = createSessionManager({
      secret: newSecret(),
      store: hanging,
      clock,
      storeTimeout: 20,
    })
    const session = manager.create({})
    await assert.rejects(manager.load({ token: manager.token(session) }), {
      code: 'TETHER_STORE_UNAVAILABLE',
      message: /"get"/,
    })
  })
})

describe('events', () => {
  it('never carry the token, the id or the secret (property)', async () => {
    const s = setup()
    const seen: string[] = []
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('login', 'forge', 'destroy', 'expire'), async (action) => {
        const { session, token } = await storedSession(s)
        seen.push(session.id, token)
        if (action === 'login') seen.push((await s.manager.login(session, {}, 'u1', s.ctx())).id)
        if (action === 'forge') await s.manager.load(s.ctx(tamper(token)))
        if (action === 'destroy') await s.manager.destroy(session, s.ctx())
        if (action === 'expire') {
          s.clock.advance(10 * 3_600_000)
          await s.manager.load(s.ctx(token))
        }
        return true
      }),
      { numRuns: 40 },
    )
    const dump = JSON.stringify(s.events)
    assert.ok(s.events.length > 40)
    for (const secretThing of [...seen, s.secret]) assert.ok(!dump.includes(secretThing))
  })
})

describe('options', () => {
  it('fail at construction with a code and a message naming the option', () => {
    const secret = newSecret()
    assert.throws(() => createSessionManager({ secret, idleTimeout: 'soon' }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"idleTimeout"/,
    })
    assert.throws(() => createSessionManager({ secret, onStoreError: 'ignore' as 'anonymous' }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"onStoreError"/,
    })
    assert.throws(() => createSessionManager({ secret, maxSessionsPerUser: 0 }), {
      code: 'TETHER_INVALID_OPTION',
      message: /"maxSessionsPerUser"/,
    })
    assert.throws(() => createSessionManager({ secret, store: {} as never }), {
      code: 'TETHER_INVALID_OPTION',
      message: /fromExpressSessionStore/,
    })
    assert.throws(() => createSessionManager({ secret: 'keyboard cat' }), {
      code: 'TETHER_WEAK_SECRET',
    })
  })
})
