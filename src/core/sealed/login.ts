import { generateSessionId, sessionRef } from '../../codec/ids.js'
import type { EventContext } from '../../events/types.js'
import type { SessionRecord } from '../../stores/types.js'
import { contextMeta } from '../binding.js'
import { assertLoggedIn, loginState } from '../login.js'
import type { SessionState } from '../manager-types.js'
import type { ResolvedOptions } from '../options.js'
import { classOf, idleExpiry } from '../records.js'
import { sealedContext } from './payload.js'
import type { SealedRevocation } from './revocation.js'

/**
 * Sealed `login`: a new id, the data kept, `authAt` = now, bound to this context. The previous
 * session (and every copy of its token) ends; the new token goes out with the response.
 */
export async function loginSealed(
  opts: ResolvedOptions,
  revocation: SealedRevocation,
  session: SessionState,
  data: Record<string, unknown>,
  userId: string,
  ctx: EventContext,
  loginOpts: { class?: string; id?: string } = {},
): Promise<SessionState> {
  // Bound to the context as sealed mode records it (a digest of the user agent).
  const next = loginState(opts, session, data, userId, sealedContext(ctx), loginOpts)
  const { ref } = next
  if (!session.isNew) await revocation.endSession(session.ref, session.record.absoluteExpiresAt)
  opts.emit('session.login', ctx, { ref, userId })
  return next
}

/**
 * Sealed `reauthenticated()`: a new id, as at login; data, user, class, creation time (so the
 * absolute lifetime) and the CSRF anchor stay; `authAt` = now, bound to this context. The old id
 * ends at once.
 */
export async function reauthenticateSealed(
  opts: ResolvedOptions,
  revocation: SealedRevocation,
  session: SessionState,
  ctx: EventContext,
  reauthOpts: { id?: string } = {},
): Promise<SessionState> {
  assertLoggedIn(session)
  const now = opts.clock.now()
  const current = session.record
  const record: SessionRecord = {
    ...current,
    authAt: now,
    meta: contextMeta(sealedContext(ctx)),
    lastSeenAt: now,
    idleExpiresAt: idleExpiry(now, classOf(opts, current)),
    originRef: current.originRef ?? session.ref,
  }
  const id = reauthOpts.id ?? generateSessionId()
  const ref = sessionRef(id)
  await revocation.endSession(session.ref, current.absoluteExpiresAt)
  opts.emit('session.login', ctx, { reason: 'reauthenticated', ref, userId: record.userId })
  const next: SessionState = {
    ...session,
    id,
    ref,
    record,
    needsCookie: true,
    stepUpRequired: false,
  }
  // Authenticated now, after any per-user mark: nothing left to be kept through.
  delete next.keptThrough
  return next
}
