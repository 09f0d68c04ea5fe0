/**
 * A correctly signed cookie whose session has ended (logout, revocation, expiry swept by the
 * store) or names another session is refused with a `session.unknown` event (ASVS 16.3.3), which
 * never carries the cookie or the id.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'
import { tamper } from '../helpers/tamper.js'

const HOME: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140', path: '/account' }

function setup() {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore({ clock }),
    clock,
    onEvent: (e) => events.push(e),
  })
  const load = (token: string) => manager.load({ ...HOME, token })
  const login = async (id?: string) => {
    const opts = id === undefined ? {} : { id }
    const session = await manager.login(manager.create(HOME), {}, 'alice', HOME, opts)
    return { session, token: manager.token(session) }
  }
  const unknown = () => events.filter((e) => e.type === 'session.unknown')
  return { clock, events, manager, load, login, unknown }
}

describe('session.unknown', () => {
  it('is emitted for the cookie of a logged-out session, with its reference and no user', async () => {
    const s = setup()
    const { session, token } = await s.login()
    await s.manager.destroy(session, HOME)
    assert.deepEqual(await s.load(token), { session: null, rejected: 'not_found' })
    const [event] = s.unknown()
    assert.deepEqual(
      { ...event, time: 0 },
      {
        time: 0,
        type: 'session.unknown',
        reason: 'not_found',
        ref: session.ref,
        ip: '198.51.100.7',
        userAgent: 'Firefox/140',
        path: '/account',
      },
    )
  })

  it('is emitted for the cookie of a revoked session, once per request', async () => {
    const s = setup()
    const { token } = await s.login()
    assert.equal(await s.manager.revokeUserSessions('alice'), 1)
    await s.load(token)
    await s.load(token)
    assert.equal(s.unknown().length, 2)
  })

  it('is emitted when the id names a session with another creation time, without naming it', async () => {
    const s = setup()
    const { session } = await s.login()
    const created = session.record.createdAt
    const other = s.manager.token({
      ...session,
      record: { ...session.record, createdAt: created - 1000 },
    })
    assert.deepEqual(await s.load(other), { session: null, rejected: 'not_found' })
    const [event] = s.unknown()
    assert.equal(event?.reason, 'created_mismatch')
    assert.equal(event?.ref, undefined, "the live session's reference is not given out")
    assert.equal(event?.userId, undefined)
  })

  it('is not emitted for a live session, a request without a cookie or a forged cookie', async () => {
    const s = setup()
    const { token } = await s.login()
    assert.ok((await s.load(token)).session)
    await s.manager.load(HOME)
    await s.load(tamper(token))
    assert.deepEqual(s.unknown(), [])
  })

  it('never carries the cookie or the session id, whatever the id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{24,64}$/), async (id) => {
        const s = setup()
        const { session, token } = await s.login(id)
        await s.manager.destroy(session, HOME)
        await s.load(token)
        assert.equal(s.unknown().length, 1)
        for (const event of s.events) {
          const line = JSON.stringify(event)
          assert.ok(!line.includes(id) && !line.includes(token), line)
        }
      }),
      { numRuns: 50 },
    )
  })
})
