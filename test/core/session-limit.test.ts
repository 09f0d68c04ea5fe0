/**
 * `maxSessionsPerUser` with `onSessionLimit: 'refuse'`: a login past the cap is refused with
 * TETHER_SESSION_LIMIT (409) and changes nothing. Concurrency and every store: the conformance
 * suite (test/stores/conformance-marks.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { ManagerOptions } from '../../src/core/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

function setup(extra: Partial<ManagerOptions> = {}) {
  const clock = manualClock()
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore({ clock }),
    clock,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  return { clock, events, manager }
}

const LIMIT_MESSAGE =
  'login refused: the user already holds 2 live sessions, the most "maxSessionsPerUser" allows, ' +
  'and "onSessionLimit" is "refuse"; end one of them (revokeSession, logout) or wait until one expires'

describe('onSessionLimit: refuse', () => {
  it('refuses a login past the cap with TETHER_SESSION_LIMIT (409) and ends no session', async () => {
    const s = setup({ maxSessionsPerUser: 2, onSessionLimit: 'refuse' })
    const first = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    const second = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    await assert.rejects(s.manager.login(s.manager.create({}), {}, 'alice', {}), {
      name: 'TetherError',
      code: 'TETHER_SESSION_LIMIT',
      status: 409,
      message: LIMIT_MESSAGE,
    })
    const listed = (await s.manager.listUserSessions('alice')).map((l) => l.ref)
    assert.deepEqual(listed, [first.ref, second.ref])
    assert.equal(s.events.filter((e) => e.type === 'session.revoked').length, 0)
    assert.ok(await s.manager.login(s.manager.create({}), {}, 'bob', {}), 'other users unaffected')
  })

  it('keeps the anonymous session and its data when its login is refused', async () => {
    const s = setup({ maxSessionsPerUser: 1, onSessionLimit: 'refuse' })
    await s.manager.login(s.manager.create({}), {}, 'alice', {})
    const cart = s.manager.create({})
    await s.manager.commit(cart, {}, { data: { cart: ['tea'] } })
    await assert.rejects(s.manager.login(cart, { cart: ['tea'] }, 'alice', {}), {
      code: 'TETHER_SESSION_LIMIT',
    })
    const again = await s.manager.load({ token: s.manager.token(cart) })
    assert.deepEqual(again.session?.record.data, { cart: ['tea'] })
  })

  it("does not count the user's own session being replaced: logging in again from it works", async () => {
    const s = setup({ maxSessionsPerUser: 1, onSessionLimit: 'refuse' })
    const first = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    const again = await s.manager.login(first, { n: 1 }, 'alice', {})
    assert.notEqual(again.ref, first.ref)
    const listed = (await s.manager.listUserSessions('alice')).map((l) => l.ref)
    assert.deepEqual(listed, [again.ref])
    assert.equal((await s.manager.load({ token: s.manager.token(first) })).session, null)
  })

  it('still evicts the oldest by default', async () => {
    const s = setup({ maxSessionsPerUser: 1 })
    const first = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    const second = await s.manager.login(s.manager.create({}), {}, 'alice', {})
    assert.deepEqual(
      (await s.manager.listUserSessions('alice')).map((l) => l.ref),
      [second.ref],
    )
    const revoked = s.events.filter((e) => e.type === 'session.revoked')
    assert.deepEqual(
      revoked.map((e) => [e.reason, e.ref]),
      [['cap', first.ref]],
    )
  })

  it('refuses onSessionLimit without maxSessionsPerUser, or with an unknown value', () => {
    assert.throws(() => createSessionManager({ secret: newSecret(), onSessionLimit: 'refuse' }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"onSessionLimit" needs "maxSessionsPerUser"; set both or neither',
    })
    const typo = { maxSessionsPerUser: 3, onSessionLimit: 'reject' } as unknown as ManagerOptions
    assert.throws(() => createSessionManager({ ...typo, secret: newSecret() }), {
      code: 'TETHER_INVALID_OPTION',
      message: '"onSessionLimit" must be "evict-oldest" or "refuse"; got "reject"',
    })
  })
})
