import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bindingMismatch, contextMeta } from '../../src/core/binding.js'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { BindingPolicy } from '../../src/core/binding.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'

const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }

async function loggedIn(binding?: BindingPolicy) {
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore(),
    onEvent: (e) => events.push(e),
    ...(binding ? { binding } : {}),
  })
  const session = await manager.login(manager.create(HOME), {}, 'alice', HOME)
  const token = manager.token(session)
  return { manager, events, token, at: (ctx: RequestContext) => manager.load({ ...ctx, token }) }
}

describe('context binding', () => {
  it('records the user agent and the network prefix, never the full address', () => {
    assert.deepEqual(contextMeta(HOME), { ua: 'Firefox/140', ipPrefix: '198.51.100.0/24' })
    assert.deepEqual(contextMeta({ ip: '2001:db8:abcd:12::1' }), { ipPrefix: '2001:db8:abcd::/48' })
    assert.equal(
      bindingMismatch(contextMeta(HOME), { ip: '198.51.100.200', userAgent: 'Firefox/140' }),
      null,
      'same /24',
    )
    assert.equal(
      bindingMismatch(contextMeta(HOME), { ip: '203.0.113.5', userAgent: 'Firefox/140' }),
      'ip',
    )
    assert.equal(
      bindingMismatch(contextMeta(HOME), { ip: '198.51.100.7', userAgent: 'curl/8' }),
      'ua',
    )
    assert.equal(
      bindingMismatch(contextMeta(HOME), { ip: '203.0.113.5', userAgent: 'curl/8' }),
      'ua+ip',
    )
  })

  it("logs a network change once by default and keeps the user logged in ('log')", async () => {
    const s = await loggedIn()
    const mobile = { ip: '203.0.113.5', userAgent: 'Firefox/140' }
    for (let i = 0; i < 3; i++)
      assert.ok((await s.at(mobile)).session, 'never logged out for moving')
    const mismatches = s.events.filter((e) => e.type === 'session.binding_mismatch')
    assert.equal(mismatches.length, 1, 'one event per change, not per request')
    assert.equal(mismatches[0]?.reason, 'ip')
    assert.ok((await s.at(HOME)).session, 'moving back is another change, still logged in')
  })

  it("makes authentication stale until reauthenticated() ('step-up')", async () => {
    const s = await loggedIn('step-up')
    const elsewhere = { ip: '203.0.113.5', userAgent: 'curl/8' }
    const out = await s.at(elsewhere)
    assert.equal(out.session?.stepUpRequired, true)
    assert.equal(s.events.at(-1)?.type, 'session.binding_mismatch')
    assert.equal(
      (await s.at(HOME)).session?.stepUpRequired,
      undefined,
      'from home: fresh as before',
    )
    const proven = await s.manager.reauthenticate(out.session, elsewhere)
    assert.equal(proven.stepUpRequired, false)
    assert.equal(
      (await s.at(elsewhere)).session?.stepUpRequired,
      undefined,
      'bound to the new context',
    )
  })

  it("ends the session on a mismatch ('revoke')", async () => {
    const s = await loggedIn('revoke')
    assert.deepEqual(await s.at({ ip: '203.0.113.5', userAgent: 'Firefox/140' }), {
      session: null,
      rejected: 'binding',
    })
    const revoked = s.events.find((e) => e.type === 'session.revoked')
    assert.equal(revoked?.reason, 'binding')
    assert.equal((await s.at(HOME)).session, null, 'gone for the original holder too')
  })

  it('never binds an anonymous session', async () => {
    const manager = createSessionManager({ secret: newSecret(), binding: 'revoke' })
    const session = manager.create(HOME)
    await manager.commit(session, HOME, { data: { a: 1 } })
    assert.ok(
      (await manager.load({ ip: '203.0.113.5', userAgent: 'other', token: manager.token(session) }))
        .session,
    )
    await manager.close()
  })

  it('refuses an unknown policy at construction', () => {
    assert.throws(
      () => createSessionManager({ secret: newSecret(), binding: 'strict' as BindingPolicy }),
      {
        code: 'TETHER_INVALID_OPTION',
        message: /"binding"/,
      },
    )
  })
})
