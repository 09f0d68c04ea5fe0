/**
 * Re-authentication issues a new session id and ends the old one, as login() does (ASVS 7.2.4:
 * a new token at authentication, re-authentication included), keeping data, user, class, creation
 * time (so the absolute lifetime) and the CSRF anchor; authAt becomes now.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000
const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }

function setup(extra: Partial<ManagerOptions> = {}) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore({ clock }),
    clock,
    classes: { admin: { secret: newSecret() } },
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const load = (token: string, ctx = HOME) => manager.load({ ...ctx, token })
  const login = async (data: Record<string, unknown> = { cart: ['a'] }, cls?: string) => {
    const opts = cls === undefined ? {} : { class: cls }
    const session = await manager.login(manager.create(HOME), data, 'alice', HOME, opts)
    return { session, token: manager.token(session) }
  }
  return { clock, events, manager, load, login }
}

describe('manager.reauthenticate', () => {
  it('issues a new id and ends the old one, keeping data, user, class and creation time', async () => {
    const s = setup()
    const old = await s.login({ cart: ['a'] }, 'admin')
    s.clock.advance(10 * MIN)
    const loaded = (await s.load(old.token)).session!
    const next = await s.manager.reauthenticate(loaded, HOME)
    assert.notEqual(next.id, old.session.id)
    assert.notEqual(next.ref, old.session.ref)
    assert.equal(next.needsCookie, true, 'the response carries the new cookie')
    const newToken = s.manager.token(next)

    assert.deepEqual(await s.load(old.token), { session: null, rejected: 'not_found' })
    const { session } = await s.load(newToken)
    assert.ok(session, 'the new cookie works')
    assert.deepEqual({ ...session.record.data }, { cart: ['a'] })
    assert.equal(session.record.userId, 'alice')
    assert.equal(session.record.sessionClass, 'admin')
    assert.equal(session.record.createdAt, old.session.record.createdAt)
    assert.equal(session.record.absoluteExpiresAt, old.session.record.absoluteExpiresAt)
    assert.equal(session.record.authAt, s.clock.now())
    assert.equal(session.record.originRef, old.session.record.originRef, 'same CSRF anchor')
    const login = s.events.filter((e) => e.type === 'session.login').at(-1)
    assert.equal(login?.reason, 'reauthenticated')
    assert.equal(login?.ref, next.ref)
  })

  it('keeps the absolute lifetime counted from the first login', async () => {
    const s = setup({ absoluteTimeout: '1h', idleTimeout: '30m' })
    const old = await s.login()
    s.clock.advance(25 * MIN)
    const active = (await s.load(old.token)).session!
    assert.equal(await s.manager.commit(active, HOME, { data: active.record.data }), 'touched')
    s.clock.advance(25 * MIN)
    const next = await s.manager.reauthenticate((await s.load(old.token)).session!, HOME)
    const token = s.manager.token(next)
    s.clock.advance(10 * MIN)
    assert.deepEqual(await s.load(token), { session: null, rejected: 'expired_absolute' })
  })

  it('lists the new session under the user instead of the old one, and evicts nothing at maxSessionsPerUser', async () => {
    const s = setup({ maxSessionsPerUser: 2 })
    const first = await s.login()
    s.clock.advance(1)
    const second = await s.login()
    const next = await s.manager.reauthenticate((await s.load(first.token)).session!, HOME)
    const refs = (await s.manager.listUserSessions('alice')).map((l) => l.ref).sort()
    assert.deepEqual(refs, [next.ref, second.session.ref].sort())
    assert.ok((await s.load(second.token)).session, 'the other device stays')
    assert.ok((await s.load(s.manager.token(next))).session)
    assert.ok(!s.events.some((e) => e.type === 'session.revoked'), 'nothing evicted')
  })

  it('binds the session to the context it was proven from', async () => {
    const s = setup({ binding: 'step-up' })
    const old = await s.login()
    const elsewhere = { ip: '203.0.113.5', userAgent: 'curl/8' }
    const stepped = (await s.load(old.token, elsewhere)).session!
    assert.equal(stepped.stepUpRequired, true)
    const next = await s.manager.reauthenticate(stepped, elsewhere)
    assert.equal(next.stepUpRequired, false)
    const again = (await s.load(s.manager.token(next), elsewhere)).session!
    assert.equal(again.stepUpRequired, undefined, 'no mismatch from the proven context')
    assert.deepEqual(again.record.meta, { ua: 'curl/8', ipPrefix: '203.0.113.0/24' })
  })

  it('starts over from a renewal made by a parallel request and ends every id of the chain', async () => {
    const s = setup({ renewAfter: '15m', renewGrace: '1m' })
    const old = await s.login({ n: 0 })
    const stale = (await s.load(old.token)).session!
    s.clock.advance(16 * MIN)
    const renewed = (await s.load(old.token)).session!
    assert.notEqual(renewed.id, old.session.id, 'renewed by the parallel request')
    const renewedToken = s.manager.token(renewed)
    await s.manager.update(renewed, (d) => void (d['n'] = 1), HOME)
    const next = await s.manager.reauthenticate(stale, HOME)
    assert.deepEqual({ ...next.record.data }, { n: 1 }, 'the data of the renewed session')
    assert.equal((await s.load(old.token)).session, null, 'the first id is dead')
    assert.equal((await s.load(renewedToken)).session, null, 'the renewed id is dead')
    assert.ok((await s.load(s.manager.token(next))).session)
    assert.deepEqual(
      (await s.manager.listUserSessions('alice')).map((l) => l.ref),
      [next.ref],
    )
  })

  it('takes the new id from the caller when given (genid)', async () => {
    const s = setup()
    const old = await s.login()
    const next = await s.manager.reauthenticate((await s.load(old.token)).session!, HOME, {
      id: 'custom-id-from-genid',
    })
    assert.equal(next.id, 'custom-id-from-genid')
    assert.ok((await s.load(s.manager.token(next))).session)
  })

  it('refuses an anonymous session', async () => {
    const s = setup()
    await assert.rejects(s.manager.reauthenticate(s.manager.create(HOME), HOME), {
      code: 'TETHER_INVALID_OPTION',
      message: 'reauthenticated() needs a logged-in session: call login(userId) first',
    })
  })
})
