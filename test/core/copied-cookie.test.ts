/**
 * What holds for a copied cookie whose two holders both stay active inside every renewal grace
 * window (docs/security.md "Renewal and reuse detection", issue 10 item 11): reuse detection never
 * fires, because each holder presents the previous id within the grace window and is handed the new
 * one. From another browser or network the copy is still caught, by context binding, on every
 * request that follows a renewal as on any other; from the same browser and network, nothing on
 * the server can tell the two holders apart.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { BindingPolicy } from '../../src/core/binding.js'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext } from '../../src/core/manager-types.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000
const OWNER: RequestContext = { ip: '198.51.100.7', userAgent: 'Firefox/140' }
const THIEF: RequestContext = { ip: '203.0.113.9', userAgent: 'curl/8' }

/**
 * The owner and a holder of a copy of the owner's cookie, each keeping the newest cookie it is
 * sent; every 16 minutes the owner renews the session and the copy follows 30 s later (inside the
 * one-minute grace window). Returns the events and whether each request still had a session.
 */
async function twoActiveHolders(binding: BindingPolicy, copy: RequestContext, rounds = 4) {
  const clock = manualClock(Date.now())
  const events: TetherEvent[] = []
  const manager = createSessionManager({
    secret: newSecret(),
    store: new MemoryStore({ clock }),
    clock,
    renewAfter: '15m',
    renewGrace: '1m',
    binding,
    onEvent: (e) => events.push(e),
  })
  const login = await manager.login(manager.create(OWNER), {}, 'alice', OWNER)
  const tokens = new Map([
    [OWNER, manager.token(login)],
    [copy, manager.token(login)],
  ])
  const alive: boolean[] = []
  async function request(ctx: RequestContext) {
    const { session } = await manager.load({ ...ctx, token: tokens.get(ctx)! })
    alive.push(session !== null)
    if (session === null) return
    await manager.commit(session, ctx, { data: session.record.data })
    if (session.needsCookie) tokens.set(ctx, manager.token(session))
  }
  for (let i = 0; i < rounds; i++) {
    clock.advance(16 * MIN)
    await request(OWNER)
    clock.advance(MIN / 2)
    await request(copy)
  }
  const renewals = events.filter((e) => e.reason === 'renewed').length
  const count = (type: string, reason?: string) =>
    events.filter((e) => e.type === type && (reason === undefined || e.reason === reason)).length
  return { alive, renewals, count, sameToken: tokens.get(OWNER) === tokens.get(copy) }
}

describe('a copied cookie used by two holders inside every grace window', () => {
  it('is never caught by reuse detection: both holders end up with each new id', async () => {
    const run = await twoActiveHolders('revoke', { ...OWNER })
    assert.equal(run.renewals, 4)
    assert.ok(run.sameToken, 'the copy followed every renewal')
    assert.ok(run.alive.every(Boolean))
    assert.equal(run.count('session.revoked'), 0)
    assert.equal(run.count('session.binding_mismatch'), 0, 'same browser and network: no signal')
  })

  it('from another context, is flagged by binding at each follow under log', async () => {
    const run = await twoActiveHolders('log', THIEF)
    assert.ok(run.alive.every(Boolean), "'log' never logs anyone out")
    // Each grace-window follow by the copy, and each owner request after it, changes the context.
    assert.ok(run.count('session.binding_mismatch') >= 4)
    assert.equal(run.count('session.revoked', 'reuse'), 0)
  })

  it('from another context, ends the session at its first follow under revoke', async () => {
    const run = await twoActiveHolders('revoke', THIEF)
    assert.deepEqual(run.alive.slice(0, 3), [true, false, false])
    assert.equal(run.count('session.revoked', 'binding'), 1)
  })
})

describe('docs/security.md on copied cookies', () => {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8')

  it('does not claim renewal detects a copy as soon as both holders use it', () => {
    assert.doesNotMatch(doc, /detected as soon as both holders use it/)
  })

  it('states the grace-window limit in the summary table and what catches such a copy', () => {
    const row = doc.split('\n').find((l) => l.startsWith('| Renewal (`renewAfter`'))
    assert.match(row ?? '', /grace window/)
    assert.match(row ?? '', /binding/)
  })
})
