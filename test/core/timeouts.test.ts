/**
 * DESIGN.md "Timeouts (contract)": an idle session ends no later than idleTimeout plus 10 % of it
 * after its last request, an active one never earlier than idleTimeout after its last request
 * (lazy touch lives inside that bound), and the absolute lifetime ends every session on time even
 * when the idle timeout is longer. Time is injected; the store keeps the same clock.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

const SEC = 1000
const MIN = 60_000
const HOUR = 3_600_000
const CTX: RequestContext = { ip: '203.0.113.9', userAgent: 'test-agent', path: '/p' }

function setup(extra: Partial<ManagerOptions> = {}) {
  const clock = manualClock(Date.now())
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore({ clock }),
    clock,
    ...extra,
  })
  return { clock, manager }
}

type Setup = ReturnType<typeof setup>

/** A request as an adapter makes it: load by cookie, commit (changed or not); the cookie it leaves. */
async function request(s: Setup, token: string, change: boolean): Promise<string | null> {
  const { session } = await s.manager.load({ ...CTX, token })
  if (session === null) return null
  const data = change ? { ...session.record.data, n: s.clock.now() } : session.record.data
  await s.manager.commit(session, CTX, { data })
  return session.needsCookie ? s.manager.token(session) : token
}

async function loggedIn(s: Setup, loginOpts: { class?: string } = {}): Promise<string> {
  const session = await s.manager.login(s.manager.create(CTX), { n: 0 }, 'u1', CTX, loginOpts)
  return s.manager.token(session)
}

describe('idle timeout bound', () => {
  it('ends a session idle for 1.2 s when idleTimeout is 800 ms', async () => {
    const s = setup({ idleTimeout: 800 })
    const token = await loggedIn(s)
    s.clock.advance(1200)
    assert.equal(await request(s, token, false), null)
  })

  it('ends an idle session within idleTimeout + 10 % and never before idleTimeout (property)', async () => {
    const idleAndGaps = fc.integer({ min: 100, max: 24 * HOUR }).chain((idle) =>
      fc.record({
        idle: fc.constant(idle),
        // Request gaps shorter than the idle timeout, the longest possible included.
        gaps: fc.array(
          fc.tuple(
            fc.oneof(fc.integer({ min: 0, max: idle - 1 }), fc.constant(idle - 1)),
            fc.boolean(),
          ),
          { maxLength: 12 },
        ),
        renew: fc.boolean(),
      }),
    )
    await fc.assert(
      fc.asyncProperty(idleAndGaps, async ({ idle, gaps, renew }) => {
        // Renewal on or off: its markers and successors must keep the same bound.
        const renewAfter = Math.max(2, Math.floor(idle / 3))
        const s = setup({
          idleTimeout: idle,
          absoluteTimeout: 1000 * 24 * HOUR,
          renewAfter: renew ? renewAfter : false,
          renewGrace: Math.floor(renewAfter / 2),
        })
        let token: string | null = await loggedIn(s)
        for (const [gap, change] of gaps) {
          s.clock.advance(gap)
          token = await request(s, token, change)
          if (token === null) return false // logged out though never idle for idleTimeout
        }
        s.clock.advance(Math.ceil(idle * 1.1))
        return (await request(s, token, false)) === null
      }),
      { numRuns: 300 },
    )
  })

  it('defaults touchAfter to the smaller of 60 s and a tenth of each class idle timeout', async () => {
    const s = setup({
      idleTimeout: '30m',
      classes: {
        admin: { secret: newSecret(), idleTimeout: '5m' },
        kiosk: { secret: newSecret(), idleTimeout: '2h' },
      },
    })
    const admin = await loggedIn(s, { class: 'admin' })
    const kiosk = await loggedIn(s, { class: 'kiosk' })
    s.clock.advance(5 * MIN + 30 * SEC)
    assert.equal(await request(s, admin, false), null, 'admin: 5 min idle + 30 s at most')
    s.clock.advance(2 * HOUR - 5 * MIN - 30 * SEC + MIN)
    assert.equal(await request(s, kiosk, false), null, 'kiosk: 2 h idle + 60 s at most')
  })

  it('refuses an explicit touchAfter over a tenth of an idle timeout, saying why and what to set', () => {
    const secret = newSecret()
    assert.throws(() => createSessionManager({ secret, idleTimeout: '3s', touchAfter: '60s' }), {
      code: 'TETHER_INVALID_OPTION',
      message:
        '"touchAfter" (60000 ms) is more than a tenth of "idleTimeout" (3000 ms): an idle session ' +
        'would outlive its idle timeout by more than 10 %. Set "touchAfter" to at most 300 ms, or ' +
        'leave it unset (it then follows each idle timeout)',
    })
    assert.throws(
      () =>
        createSessionManager({
          secret,
          touchAfter: '1m',
          classes: { admin: { secret: newSecret(), idleTimeout: '5m' } },
        }),
      {
        code: 'TETHER_INVALID_OPTION',
        message:
          /^"touchAfter" \(60000 ms\) is more than a tenth of "classes\.admin\.idleTimeout" \(300000 ms\).*at most 30000 ms/,
      },
    )
    assert.doesNotThrow(() =>
      createSessionManager({ secret, idleTimeout: '10m', touchAfter: '1m' }).close(),
    )
  })
})

describe('absolute timeout', () => {
  it('accepts an idle timeout longer than the absolute one, for the manager and for classes', () => {
    const secret = newSecret()
    assert.doesNotThrow(() =>
      createSessionManager({ secret, idleTimeout: '24h', absoluteTimeout: '1h' }).close(),
    )
    assert.doesNotThrow(() =>
      createSessionManager({
        secret,
        classes: { admin: { secret: newSecret(), idleTimeout: '9h', absoluteTimeout: '1h' } },
      }).close(),
    )
  })

  it('ends an active session at the absolute timeout when the idle timeout is far longer', async () => {
    const s = setup({ idleTimeout: '24h', absoluteTimeout: '1h' })
    let token = await loggedIn(s)
    for (let elapsed = 0; elapsed < HOUR - 10 * MIN; elapsed += 10 * MIN) {
      s.clock.advance(10 * MIN)
      const next = await request(s, token, true)
      assert.ok(next, `alive after ${elapsed + 10 * MIN} ms`)
      token = next
    }
    s.clock.advance(10 * MIN - 1)
    const last = await request(s, token, false)
    assert.ok(last, 'alive 1 ms before the absolute timeout')
    s.clock.advance(1)
    assert.equal(await request(s, last, false), null, 'gone at createdAt + absoluteTimeout')
  })
})

describe('renewGrace default', () => {
  it('follows renewAfter: the smaller of 1 min and half of it', () => {
    const secret = newSecret()
    const graceOf = (renewAfter: string) => {
      const manager = createSessionManager({ secret, renewAfter })
      void manager.close()
      return manager.options.renewGraceMs
    }
    assert.equal(graceOf('30s'), 15 * SEC)
    assert.equal(graceOf('2m'), MIN)
    assert.equal(graceOf('15m'), MIN)
  })

  it('still refuses an explicit renewGrace that is not shorter than renewAfter', () => {
    assert.throws(
      () => createSessionManager({ secret: newSecret(), renewAfter: '30s', renewGrace: '30s' }),
      {
        code: 'TETHER_INVALID_OPTION',
        message: '"renewGrace" (30000 ms) must be shorter than "renewAfter" (30000 ms)',
      },
    )
  })
})
