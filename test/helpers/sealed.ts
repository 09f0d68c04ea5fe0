import assert from 'node:assert/strict'
import { createSessionManager } from '../../src/core/manager.js'
import type { RequestContext, SessionManager, SessionState } from '../../src/core/manager-types.js'
import type { ManagerOptions } from '../../src/core/options.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock, type ManualClock } from './clock.js'
import { newSecret } from './secrets.js'

/** A MemoryStore used as a revocation store that counts its mark reads and writes. */
export class CountingMarks extends MemoryStore {
  reads = 0
  writes: Array<{ scope: string; at: number; expiresAt: number }> = []
  failing = false

  override getNotBefore(scope: string): Promise<number | null> {
    this.reads++
    if (this.failing) return Promise.reject(new Error('revocation store is down (test)'))
    return super.getNotBefore(scope)
  }

  override setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    this.writes.push({ scope, at, expiresAt })
    if (this.failing) return Promise.reject(new Error('revocation store is down (test)'))
    return super.setNotBefore(scope, at, expiresAt)
  }
}

export interface SealedSetup {
  clock: ManualClock
  marks: CountingMarks
  events: TetherEvent[]
  manager: SessionManager
  secret: string
  ctx(token?: string): RequestContext
  /** Another process: same secret and revocation store, its own cache. */
  other(extra?: Partial<ManagerOptions>): SessionManager
}

/** A sealed manager on a manual clock, its revocation store counted, its events kept. */
export function sealedSetup(extra: Partial<ManagerOptions> = {}): SealedSetup {
  const clock = manualClock(Date.now())
  const marks = new CountingMarks({ clock })
  const events: TetherEvent[] = []
  const secret = newSecret()
  const base = { secret, store: 'sealed' as const, revocationStore: marks, clock, ...extra }
  const manager = createSessionManager({ ...base, onEvent: (e) => events.push(e) })
  return {
    clock,
    marks,
    events,
    manager,
    secret,
    ctx: (token) => ({ token, ip: '203.0.113.9', userAgent: 'test-agent', path: '/p' }),
    other: (more = {}) => createSessionManager({ ...base, ...more }),
  }
}

/** A new session holding `data`, committed; returns it and its token. */
export async function sealedSession(
  s: SealedSetup,
  data: Record<string, unknown> = { n: 1 },
): Promise<{ session: SessionState; token: string }> {
  const session = s.manager.create(s.ctx())
  assert.equal(await s.manager.commit(session, s.ctx(), { data }), 'created')
  return { session, token: s.manager.token(session) }
}

/** A logged-in session of `userId`, committed as the end of a request would; its token. */
export async function sealedLogin(
  manager: SessionManager,
  userId: string,
  ctx: RequestContext = { ip: '203.0.113.9', userAgent: 'test-agent' },
): Promise<{ session: SessionState; token: string }> {
  const session = await manager.login(manager.create(ctx), {}, userId, ctx)
  await manager.commit(session, ctx, { data: {} })
  return { session, token: manager.token(session) }
}

/** The data a token loads to, or null when it is refused. */
export async function loadedData(
  manager: SessionManager,
  token: string,
  ctx: RequestContext = { ip: '203.0.113.9', userAgent: 'test-agent' },
): Promise<Record<string, unknown> | null> {
  const outcome = await manager.load({ ...ctx, token })
  return outcome.session === null ? null : { ...outcome.session.record.data }
}

export { newSecret }
