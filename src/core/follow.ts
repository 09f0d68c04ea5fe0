import type { EventContext } from '../events/types.js'
import type { SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { findSuccessor } from './renewal.js'
import { storeCall } from './store-call.js'

/**
 * After a store call found the session gone: if a parallel request renewed it, moves `session`
 * to its successor (the response then sends the new cookie) and returns true.
 */
export async function followRenewal(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
): Promise<boolean> {
  if (opts.renewAfterMs === null || session.isNew) return false
  const next = await findSuccessor(opts, ctx, session.ref, session.id)
  if (next === null || next.record.createdAt !== session.record.createdAt) return false
  Object.assign(session, { id: next.id!, ref: next.ref, record: next.record, needsCookie: true })
  session.confirmRenewal = false
  return true
}

/**
 * For a commit that would write nothing: a session past its renewal deadline may have been
 * renewed by a parallel request since this one loaded it, and then this response must carry the
 * new id, not re-send the old one (`rolling`, a key rotation). False when the session is gone.
 */
export async function stillCurrent(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
): Promise<boolean> {
  const live = await storeCall(opts, 'get', ctx, () => opts.store.get(session.ref))
  return live !== null || (await followRenewal(opts, session, ctx))
}
