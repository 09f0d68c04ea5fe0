import { bindingMismatch, contextMeta } from '../binding.js'
import type { LoadOutcome, RequestContext, SessionState } from '../manager-types.js'
import type { ResolvedOptions } from '../options.js'
import { classOf } from '../records.js'
import { rejectToken } from '../reject-token.js'
import type { OpenedSeals } from './opened-seals.js'
import { sealedContext } from './payload.js'
import type { SealedRevocation, Verdict } from './revocation.js'

/**
 * Loads the session a sealed token carries: opened (length cap, key id, AES-GCM tag) before
 * anything else, so a forged token costs one decryption attempt and no I/O (a token opened or
 * sealed lately costs a lookup: opened-seals.ts); then the absolute and idle expiry from the sealed
 * times, the revocation marks (cached), and the binding, on every request.
 */
export async function loadSealed(
  opts: ResolvedOptions,
  revocation: SealedRevocation,
  seals: OpenedSeals,
  ctx: RequestContext,
): Promise<LoadOutcome> {
  if (ctx.token === undefined) return { session: null, rejected: 'none' }
  const opened = seals.open(ctx.token)
  if (!opened.ok) return rejectToken(opts, ctx, opened.reason)
  const { unsealed } = opened
  const { ref, record } = unsealed
  // A key of one class never vouches for a session of another (each class's kill switch holds).
  if (opened.key.sessionClass !== record.sessionClass) return rejectToken(opts, ctx, 'forged')
  const now = opts.clock.now()
  const who = { ref, userId: record.userId }
  if (now >= record.absoluteExpiresAt) {
    opts.emit('session.expired_absolute', ctx, who)
    return { session: null, rejected: 'expired_absolute' }
  }
  if (now >= record.idleExpiresAt) {
    opts.emit('session.expired_idle', ctx, who)
    return { session: null, rejected: 'expired_idle' }
  }
  let verdict: Verdict
  try {
    verdict = await revocation.check(unsealed, ctx)
  } catch (err) {
    if (opts.failOpen) return { session: null, rejected: 'store_error' }
    throw err
  }
  if (verdict.refused !== null) {
    // Ended by revokeAllSessions() as in stored mode; by a logout or revocation: a replayed token.
    if (verdict.refused === 'all') opts.emit('session.revoked', ctx, { reason: 'all', ...who })
    else opts.emit('session.unknown', ctx, { reason: 'revoked', ...who })
    return { session: null, rejected: 'revoked' }
  }
  const session: SessionState = {
    id: unsealed.id,
    ref,
    record,
    isNew: false,
    snapshot: opened.snapshot,
    // Opened with an older key, or newly kept through a user mark: the next token is sent.
    needsCookie:
      opened.key !== classOf(opts, record).signing || verdict.keptThrough !== unsealed.keptThrough,
  }
  if (verdict.keptThrough !== undefined) session.keptThrough = verdict.keptThrough
  if (record.userId !== undefined && !(await checkBinding(opts, revocation, session, ctx)))
    return { session: null, rejected: 'binding' }
  return { session }
}

/** The binding policy for a sealed session; false when it was revoked for it. */
async function checkBinding(
  opts: ResolvedOptions,
  revocation: SealedRevocation,
  session: SessionState,
  ctx: RequestContext,
): Promise<boolean> {
  const { record, ref } = session
  const context = sealedContext(ctx)
  const mismatch = bindingMismatch(record.meta, context)
  if (mismatch === null) return true
  opts.emit('session.binding_mismatch', ctx, { reason: mismatch, ref, userId: record.userId })
  switch (opts.binding) {
    case 'revoke':
      await revocation.endSession(ref, record.absoluteExpiresAt)
      opts.emit('session.revoked', ctx, { reason: 'binding', ref, userId: record.userId })
      return false
    case 'step-up':
      session.stepUpRequired = true
      return true
    case 'log':
      // The next token carries the new context, so the event fires once per change.
      session.record = { ...record, meta: contextMeta(context) }
      session.needsCookie = true
      return true
  }
}
