import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { renewedId, sessionRef } from '../../src/codec/ids.js'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext, SessionState } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import { markerKey } from '../../src/core/renewal.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore as ExpressMemoryStore } from '../../src/adapters/express/store.js'
import { fromExpressSessionStore } from '../../src/stores/compat.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { SessionStore } from '../../src/stores/types.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

const MIN = 60_000
const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }

function setup(extra: Partial<ManagerOptions> = {}) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore({ clock }))
  const manager = createSessionManager({
    secret: newSecret(),
    store,
    clock,
    renewAfter: '15m',
    renewGrace: '1m',
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const load = (token: string) => manager.load({ ...HOME, token })
  return { clock, events, store, manager, load }
}

type Setup = ReturnType<typeof setup>

/** A logged-in session and its cookie. */
async function loggedIn(s: Setup, data: Record<string, unknown> = { cart: ['a'] }) {
  const session = await s.manager.login(s.manager.create(HOME), data, 'alice', HOME)
  return { session, token: s.manager.token(session) }
}

/** Loads `token` and commits the request unchanged, as an adapter does; returns the session. */
async function request(s: Setup, token: string): Promise<SessionState> {
  const { session, rejected } = await s.load(token)
  assert.ok(session, `expected a session, got ${rejected}`)
  await s.manager.commit(session, HOME, { data: session.record.data })
  return session
}

/** Renews the session of `token` by a request past renewAfter; returns the new session. */
async function renewed(s: Setup, token: string) {
  s.clock.advance(16 * MIN)
  const session = await request(s, token)
  return { session, token: s.manager.token(session) }
}

describe('renewal', () => {
  it('gives the session a new id after renewAfter, keeping data, creation, user and authAt', async () => {
    const s = setup()
    const old = await loggedIn(s)
    s.clock.advance(14 * MIN)
    assert.equal((await request(s, old.token)).id, old.session.id, 'not before renewAfter')
    s.clock.advance(2 * MIN)
    const { session, rejected } = await s.load(old.token)
    assert.ok(session, rejected)
    assert.notEqual(session.id, old.session.id)
    assert.equal(session.id, renewedId(old.session.id))
    assert.equal(session.needsCookie, true, 'the response carries the new cookie')
    assert.deepEqual({ ...session.record.data }, { cart: ['a'] })
    assert.equal(session.record.createdAt, old.session.record.createdAt)
    assert.equal(session.record.authAt, old.session.record.authAt)
    assert.equal(session.record.userId, 'alice')
    // The user sees one session, under its new reference.
    const listed = await s.manager.listUserSessions('alice')
    assert.deepEqual(
      listed.map((l) => l.ref),
      [session.ref],
    )
    const event = s.events.find((e) => e.type === 'session.regenerated')
    assert.equal(event?.reason, 'renewed')
    assert.equal(event?.ref, session.ref)
  })

  it('renews again renewAfter after the last renewal, not after creation', async () => {
    const s = setup()
    const first = await loggedIn(s)
    const second = await renewed(s, first.token)
    s.clock.advance(10 * MIN)
    assert.equal((await request(s, second.token)).id, second.session.id)
    s.clock.advance(6 * MIN)
    assert.equal((await request(s, second.token)).id, renewedId(second.session.id))
  })

  it('never renews with renewAfter: false', async () => {
    const s = setup({ renewAfter: false })
    const { session, token } = await loggedIn(s)
    for (let i = 0; i < 5; i++) {
      s.clock.advance(20 * MIN)
      assert.equal((await request(s, token)).id, session.id)
    }
  })

  it('honours the old id within the grace window: same session, new cookie, no second renewal', async () => {
    const s = setup()
    const old = await loggedIn(s)
    const next = await renewed(s, old.token)
    s.clock.advance(59_000)
    const { session } = await s.load(old.token)
    assert.ok(session)
    assert.equal(session.id, next.session.id)
    assert.equal(session.needsCookie, true)
    assert.equal(s.events.filter((e) => e.type === 'session.revoked').length, 0)
  })

  it('revokes the session for both holders when the old id comes back after the grace window', async () => {
    const s = setup()
    const old = await loggedIn(s)
    const next = await renewed(s, old.token)
    await request(s, next.token) // the legitimate holder uses the new id
    s.clock.advance(2 * MIN)
    const replay = await s.load(old.token)
    assert.equal(replay.session, null)
    assert.equal(replay.rejected, 'reuse')
    const revoked = s.events.filter((e) => e.type === 'session.revoked')
    assert.equal(revoked.length, 1)
    assert.equal(revoked[0]?.reason, 'reuse')
    assert.equal(revoked[0]?.userId, 'alice')
    // Whoever held the new id is logged out too, and the user has no session left.
    assert.equal((await s.load(next.token)).rejected, 'not_found')
    assert.deepEqual(await s.manager.listUserSessions('alice'), [])
    const serialised = JSON.stringify(s.events)
    for (const secret of [old.session.id, next.session.id, old.token, next.token])
      assert.ok(!serialised.includes(secret), 'no id or token in events')
  })

  it('revokes the head of a chain when an id two renewals old is replayed', async () => {
    const s = setup()
    const first = await loggedIn(s)
    const second = await renewed(s, first.token)
    const third = await renewed(s, second.token)
    await request(s, third.token)
    assert.equal((await s.load(first.token)).rejected, 'reuse')
    assert.equal((await s.load(third.token)).rejected, 'not_found')
  })

  it('follows an old id past the grace window while the new id never reached anyone (lost response)', async () => {
    const s = setup()
    const old = await loggedIn(s)
    const next = await renewed(s, old.token)
    s.clock.advance(10 * MIN)
    // The client never got the renewing response, so it still sends the old cookie.
    const recovered = await request(s, old.token)
    assert.equal(recovered.id, next.session.id)
    assert.equal(recovered.needsCookie, true)
    // Once the new id has been presented, the old one is a replay.
    await request(s, next.token)
    assert.equal((await s.load(old.token)).rejected, 'reuse')
  })

  it('sends a commit of a request that started before the renewal to the renewed session', async () => {
    const s = setup()
    const old = await loggedIn(s, { a: 1 })
    // A slow request loads the session; meanwhile another one, past renewAfter, renews it.
    const slowSession = (await s.load(old.token)).session
    assert.ok(slowSession)
    s.clock.advance(16 * MIN)
    const fast = await request(s, old.token)
    assert.notEqual(fast.id, old.session.id)
    const outcome = await s.manager.commit(slowSession, HOME, {
      data: { ...slowSession.record.data, b: 2 },
    })
    assert.equal(outcome, 'updated')
    assert.equal(slowSession.id, fast.id, 'the slow request now answers with the new cookie')
    assert.equal(slowSession.needsCookie, true)
    const now = await s.load(s.manager.token(fast))
    assert.deepEqual({ ...now.session?.record.data }, { a: 1, b: 2 })
  })

  it('logs out the renewed session when a request that loaded the old one destroys it', async () => {
    const s = setup()
    const old = await loggedIn(s)
    const stale = (await s.load(old.token)).session
    assert.ok(stale)
    const next = await renewed(s, old.token)
    await s.manager.destroy(stale, HOME)
    assert.deepEqual(await s.manager.listUserSessions('alice'), [])
    assert.equal((await s.load(next.token)).session, null)
  })

  it('applies update(fn) and reauthenticate of a stale request to the renewed session', async () => {
    const s = setup()
    const old = await loggedIn(s, { n: 0 })
    const stale = (await s.load(old.token)).session
    assert.ok(stale)
    const next = await renewed(s, old.token)
    const updated = await s.manager.update(
      stale,
      (data) => {
        data['n'] = 1
      },
      HOME,
    )
    assert.equal(updated.ref, next.session.ref)
    s.clock.advance(MIN)
    const again = await s.manager.reauthenticate(stale, HOME)
    assert.notEqual(again.ref, next.session.ref, 're-authentication issues a new id')
    assert.equal((await s.load(next.token)).session, null, 'and ends the renewed one')
    const head = (await s.load(s.manager.token(again))).session
    assert.equal(head?.record.data['n'], 1)
    assert.equal(head?.record.authAt, s.clock.now())
  })

  it('revokes the renewed session through a stale ref from a sessions page', async () => {
    const s = setup()
    const old = await loggedIn(s)
    const next = await renewed(s, old.token)
    assert.equal(await s.manager.revokeSession(old.session.ref, { userId: 'bob' }), false)
    assert.equal(await s.manager.revokeSession(old.session.ref, { userId: 'alice' }), true)
    assert.equal((await s.load(next.token)).session, null)
  })

  it('agrees on one successor when 20 requests renew at once, and loses none of their writes', async () => {
    const s = setup()
    const old = await loggedIn(s, {})
    s.clock.advance(16 * MIN)
    const loads = await Promise.all(Array.from({ length: 20 }, () => s.load(old.token)))
    const successor = renewedId(old.session.id)
    for (const { session, rejected } of loads) {
      assert.ok(session, `no request is logged out (${rejected})`)
      assert.ok([old.session.id, successor].includes(session.id))
    }
    assert.equal(loads.filter((l) => l.session?.id === successor).length >= 1, true)
    await Promise.all(
      loads.map((l, i) =>
        s.manager.commit(l.session!, HOME, { data: { ...l.session!.record.data, [`k${i}`]: i } }),
      ),
    )
    for (const l of loads) assert.equal(l.session!.id, successor, 'every response sends the new id')
    const head = (await s.load(s.manager.token(loads[0]!.session!))).session
    assert.equal(Object.keys(head!.record.data).length, 20)
    assert.equal((await s.manager.listUserSessions('alice')).length, 1)
    assert.equal(s.events.filter((e) => e.type === 'store.error').length, 0)
  })

  it('keeps a marker with no user and no data under a key no cookie maps to', async () => {
    const s = setup()
    const old = await loggedIn(s, { secret: 'x' })
    const next = await renewed(s, old.token)
    const marker = await s.store.get(markerKey(old.session.ref))
    assert.ok(marker)
    assert.equal(marker.userId, undefined)
    assert.deepEqual({ ...marker.data }, {})
    assert.equal(marker.rotatedTo, next.session.ref)
    assert.equal(await s.store.get(old.session.ref), null, 'the old record is gone')
    assert.notEqual(markerKey(old.session.ref), sessionRef(old.session.id + '.renewed'))
  })
})

describe('renewal: what it refuses', () => {
  it('does not follow a marker that names a session the old id was not renewed into', async () => {
    const s = setup()
    const victim = await loggedIn(s)
    const attacker = await loggedIn(s)
    await renewed(s, attacker.token)
    // Someone with write access to the store points the attacker's marker at the victim's session.
    const key = markerKey(attacker.session.ref)
    const marker = await s.store.get(key)
    assert.ok(marker)
    await s.store.destroy(key)
    await s.store.create(key, { ...marker, rotatedTo: victim.session.ref })
    const { session, rejected } = await s.load(attacker.token)
    assert.equal(session, null)
    assert.equal(rejected, 'not_found')
  })

  it('is off by default on a store without atomic writes, and refused when asked for', () => {
    const legacy = fromExpressSessionStore(new ExpressMemoryStore())
    const manager = createSessionManager({ secret: newSecret(), store: legacy })
    assert.equal(manager.options.renewAfterMs, null)
    assert.throws(
      () => createSessionManager({ secret: newSecret(), store: legacy, renewAfter: '15m' }),
      { code: 'TETHER_INVALID_OPTION', message: /atomic writes/ },
    )
    assert.equal(createSessionManager({ secret: newSecret() }).options.renewAfterMs, 15 * MIN)
  })
})

/** A store that forwards to `inner`; tests replace single methods to interleave races. */
function delegate(inner: SessionStore): SessionStore {
  return {
    tetherStore: 1,
    get: (key) => inner.get(key),
    create: (key, record, options) => inner.create(key, record, options),
    update: (key, patch, options) => inner.update(key, patch, options),
    touch: (key, times) => inner.touch(key, times),
    destroy: (key) => inner.destroy(key),
    listByUser: (userId) => inner.listByUser(userId),
    destroyByUser: (userId, options) => inner.destroyByUser(userId, options),
  }
}

/** A manager over a delegating store, for races; `renewNow(token)` renews a session mid-call. */
function racing() {
  const clock = manualClock(Date.now())
  const memory = new MemoryStore({ clock })
  const store = delegate(memory)
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store,
    clock,
    renewAfter: '15m',
    onEvent: (e) => events.push(e),
  })
  const load = (token: string) => manager.load({ ...HOME, token })
  return { clock, memory, store, manager, load, events }
}

describe('renewal racing revocation and logout (review findings)', () => {
  it('revokeSession ends a session that a parallel request renews between its read and its delete', async () => {
    const r = racing()
    const login = await r.manager.login(r.manager.create(HOME), {}, 'alice', HOME)
    const token = r.manager.token(login)
    r.clock.advance(16 * MIN)
    let renewedToken: string | undefined
    const get = r.store.get.bind(r.store)
    r.store.get = async (key) => {
      const found = await get(key)
      if (key === login.ref && renewedToken === undefined) {
        r.store.get = get
        // The revocation has read the record; now a parallel request renews the session.
        const { session } = await r.load(token)
        renewedToken = r.manager.token(session!)
      }
      return found
    }
    assert.equal(await r.manager.revokeSession(login.ref, { userId: 'alice' }), true)
    assert.ok(renewedToken)
    assert.equal((await r.load(renewedToken)).session, null, 'the renewed id is dead')
    assert.equal((await r.load(token)).session, null, 'the old id is dead')
    assert.deepEqual(await r.manager.listUserSessions('alice'), [])
  })

  it('revokeUserSessions ends a session renewed while a non-atomic store evicts the user', async () => {
    const r = racing()
    const login = await r.manager.login(r.manager.create(HOME), {}, 'alice', HOME)
    const token = r.manager.token(login)
    r.clock.advance(16 * MIN)
    let renewedToken: string | undefined
    // As Redis does: read the user's index, then evict what it listed.
    r.store.destroyByUser = async (userId, options) => {
      const listed = await r.memory.listByUser(userId)
      if (renewedToken === undefined) renewedToken = r.manager.token((await r.load(token)).session!)
      const gone: string[] = []
      for (const { key } of listed) {
        if (key === options?.except || (await r.memory.get(key)) === null) continue
        await r.memory.destroy(key)
        gone.push(key)
      }
      return gone
    }
    await r.manager.revokeUserSessions('alice')
    assert.deepEqual(await r.manager.listUserSessions('alice'), [])
    assert.equal((await r.load(renewedToken!)).session, null)
  })

  it('keeps the session revokeUserSessions was told to keep, even renewed since by another tab', async () => {
    const s = setup()
    const own = await loggedIn(s)
    const other = await loggedIn(s)
    const ownRenewed = await renewed(s, own.token)
    await request(s, other.token)
    assert.equal(await s.manager.revokeUserSessions('alice', { except: own.session.ref }), 1)
    assert.ok((await s.load(ownRenewed.token)).session, 'the own session is kept')
  })

  it('undoes a renewal whose final write failed, so nothing outlives a revocation meanwhile', async () => {
    const r = racing()
    const login = await r.manager.login(r.manager.create(HOME), { n: 1 }, 'alice', HOME)
    const token = r.manager.token(login)
    r.clock.advance(16 * MIN)
    const update = r.store.update.bind(r.store)
    r.store.update = async (key, patch, options) => {
      if (options?.ifVersion === undefined) return update(key, patch, options)
      // The store fails the claim after a revocation removed the session.
      await r.memory.destroy(key)
      throw new Error('connection reset')
    }
    const { session } = await r.load(token)
    assert.equal(session?.id, login.id, 'not renewed')
    const successor = sessionRef(renewedId(login.id))
    assert.equal(await r.memory.get(successor), null, 'the successor was removed')
    assert.equal(await r.memory.get(markerKey(login.ref)), null, 'and the marker')
    assert.deepEqual(await r.manager.listUserSessions('alice'), [])
  })

  it('answers with the new id when a request that loaded the old one commits nothing after a renewal', async () => {
    const s = setup()
    const old = await loggedIn(s)
    s.clock.advance(15 * MIN - 500)
    await request(s, old.token) // touched: lastSeenAt is now
    const slow = (await s.load(old.token)).session!
    s.clock.advance(500)
    const next = await request(s, old.token) // renews
    await request(s, s.manager.token(next)) // the new id in use
    s.clock.advance(100)
    // Nothing to write (within touchAfter), but with rolling or a key rotation the adapter would
    // re-send the cookie: it must be the new one, or the browser falls back to a replayed id.
    const outcome = await s.manager.commit(slow, HOME, { data: slow.record.data })
    assert.equal(outcome, 'none')
    assert.equal(slow.id, next.id)
    assert.equal(slow.needsCookie, true)
  })
})

describe('renewal: bounded cost and memory', () => {
  it('costs one or two reads to replay an old id once its session was revoked for reuse', async () => {
    const s = setup({ idleTimeout: '2h' })
    const stolen = (await loggedIn(s)).token
    let token = stolen
    for (let i = 0; i < 3; i++) {
      s.clock.advance(14 * MIN)
      token = (await renewed(s, token)).token
      await request(s, token)
    }
    s.clock.advance(2 * MIN)
    assert.equal((await s.load(stolen)).rejected, 'reuse')
    const before = s.store.calls.get
    assert.equal((await s.load(stolen)).rejected, 'not_found')
    assert.ok(s.store.calls.get - before <= 2, `${s.store.calls.get - before} reads`)
  })

  it('refuses an id whose marker outlived its idle timeout, without ending the live session', async () => {
    const s = setup({ idleTimeout: '30m', absoluteTimeout: '8h' })
    const stolen = (await loggedIn(s)).token
    let token = (await renewed(s, stolen)).token
    for (let i = 0; i < 5; i++) {
      s.clock.advance(10 * MIN)
      token = s.manager.token(await request(s, token))
    }
    assert.equal((await s.load(stolen)).rejected, 'not_found')
    assert.ok((await s.load(token)).session, 'the owner is still logged in')
    assert.equal(s.events.filter((e) => e.type === 'session.revoked').length, 0)
  })

  it('evicts renewal markers before live sessions when the MemoryStore is full', async () => {
    const clock = manualClock(Date.now())
    const store = new MemoryStore({ clock, maxEntries: 20 })
    const manager = createSessionManager({ secret: newSecret(), store, clock, idleTimeout: '4h' })
    const idle = await manager.login(manager.create(HOME), {}, 'idle', HOME)
    const active = await Promise.all(
      Array.from({ length: 9 }, (_, i) => manager.login(manager.create(HOME), {}, `u${i}`, HOME)),
    )
    let tokens = active.map((session) => manager.token(session))
    for (let round = 0; round < 6; round++) {
      clock.advance(16 * MIN)
      tokens = await Promise.all(
        tokens.map(async (token) => {
          const { session } = await manager.load({ ...HOME, token })
          await manager.commit(session!, HOME, { data: session!.record.data })
          return manager.token(session!)
        }),
      )
    }
    assert.ok(store.size <= 20)
    assert.ok(
      (await manager.load({ ...HOME, token: manager.token(idle) })).session,
      'idle user kept',
    )
  })

  it('refuses a grace window as long as the renewal interval', () => {
    assert.throws(
      () => createSessionManager({ secret: newSecret(), renewAfter: '1m', renewGrace: '1m' }),
      { code: 'TETHER_INVALID_OPTION', message: /"renewGrace" \(60000 ms\) must be shorter/ },
    )
  })
})

describe('renewal with a single honest client (property)', () => {
  it('never logs out a client that keeps the newest cookie, whatever the request gaps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 29 * MIN }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        async (gaps, lost) => {
          const s = setup({ absoluteTimeout: '24h' })
          let { token } = await loggedIn(s)
          for (const [i, gap] of gaps.entries()) {
            s.clock.advance(gap)
            const session = await request(s, token)
            // A lost response leaves the client on the cookie it had.
            if (!lost[i] && session.needsCookie) token = s.manager.token(session)
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('ends the session whenever a copied cookie is replayed after the owner moved on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 61_000, max: 60 * MIN }),
        async (renewals, delay) => {
          const s = setup({ idleTimeout: '2h', absoluteTimeout: '24h' })
          const stolen = (await loggedIn(s)).token
          let token = stolen
          for (let i = 0; i < renewals; i++) {
            const next = await renewed(s, token)
            token = next.token
            await request(s, token)
          }
          s.clock.advance(delay)
          assert.equal((await s.load(stolen)).rejected, 'reuse')
          assert.equal((await s.load(token)).session, null)
        },
      ),
      { numRuns: 40 },
    )
  })
})
