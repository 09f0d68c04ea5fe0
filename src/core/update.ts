import { TetherError } from '../errors.js'
import type { EventContext } from '../events/types.js'
import type { SessionRecord } from '../stores/types.js'
import { dataFromSnapshot, diffData, snapshotData } from './diff.js'
import { followRenewal } from './follow.js'
import type { SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { assertSize, classOf, idleExpiry } from './records.js'
import { destroyChain } from './renewal.js'
import { storeCall } from './store-call.js'

const MAX_UPDATE_ATTEMPTS = 100

/** Atomic read-modify-write of the data, retried on a version conflict. */
export async function updateSession(
  opts: ResolvedOptions,
  session: SessionState,
  fn: (
    data: Record<string, unknown>,
  ) => void | Record<string, unknown> | Promise<void | Record<string, unknown>>,
  ctx: EventContext,
): Promise<SessionState> {
  const current = { ...session }
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    let record = await storeCall(opts, 'get', ctx, () => opts.store.get(current.ref))
    if (record === null && (await followRenewal(opts, current, ctx))) record = current.record
    if (record === null)
      throw new TetherError(
        'TETHER_SESSION_NOT_FOUND',
        'session.update(): the session no longer exists in the store',
      )
    const before = snapshotData(record.data)
    const draft = dataFromSnapshot(before)
    const data = (await fn(draft)) ?? draft
    const diff = diffData(before, data)
    assertSize(opts, diff.size)
    const now = opts.clock.now()
    const times = { lastSeenAt: now, idleExpiresAt: idleExpiry(now, classOf(opts, record)) }
    const next: SessionRecord = { ...record, ...times, data, v: record.v + 1 }
    const patch = { set: diff.set, unset: diff.unset, fields: {}, times, next }
    const result = await storeCall(opts, 'update', ctx, () =>
      opts.store.update(current.ref, patch, { ifVersion: record.v }),
    )
    // The version matched, so what is stored now is exactly `data`.
    if (result.ok) {
      const stored = { ...next, data: dataFromSnapshot(diff.snapshot), v: result.v }
      return { ...current, record: stored, snapshot: diff.snapshot }
    }
    // Renewed meanwhile: the next attempt reads the successor.
    if (result.reason === 'missing' && (await followRenewal(opts, current, ctx))) continue
    if (result.reason === 'missing')
      throw new TetherError(
        'TETHER_SESSION_NOT_FOUND',
        'session.update(): the session no longer exists in the store',
      )
    // Lost the race: back off a random moment so contenders spread out, then read again.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 20)))
  }
  throw new TetherError(
    'TETHER_VERSION_CONFLICT',
    `session.update(): gave up after ${MAX_UPDATE_ATTEMPTS} version conflicts`,
  )
}

/** Re-reads the session from the store; null when it is gone. */
export async function reloadSession(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
): Promise<SessionState | null> {
  const moved = { ...session }
  let record = await storeCall(opts, 'get', ctx, () => opts.store.get(session.ref))
  if (record === null && (await followRenewal(opts, moved, ctx))) record = moved.record
  if (record === null) return null
  return { ...moved, record, isNew: false, snapshot: snapshotData(record.data) }
}

/** Ends the session: its record and every renewal marker that leads to it. */
export async function destroySession(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
): Promise<void> {
  if (!session.isNew) await destroyChain(opts, ctx, session.ref, session.id)
  opts.emit('session.destroyed', ctx, { ref: session.ref, userId: session.record.userId })
}
