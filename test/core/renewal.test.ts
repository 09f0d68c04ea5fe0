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
    assert.equal(again.ref, next.session.ref)
    const head = (await s.load(next.token)).session
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
