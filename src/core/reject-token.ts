import type { VerifyFailure } from '../codec/token.js'
import type { LoadOutcome, RequestContext } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { throttleKey } from './throttle.js'

/**
 * A token that failed verification, before any store I/O: its event, and the throttle's verdict
 * for its address (429 past the limit). Signed and sealed tokens alike.
 */
export function rejectToken(
  opts: ResolvedOptions,
  ctx: RequestContext,
  reason: VerifyFailure,
): LoadOutcome {
  const type =
    reason === 'expired_absolute' ? 'session.expired_absolute' : (`token.${reason}` as const)
  opts.emit(type, ctx)
  if (reason !== 'expired_absolute' && opts.throttle !== null && ctx.ip !== undefined) {
    const verdict = opts.throttle(throttleKey(ctx.ip))
    if (verdict.firstOfBurst) opts.emit('ratelimit.blocked', ctx, { reason })
    if (verdict.blocked)
      return { session: null, rejected: reason, retryAfterS: verdict.retryAfterS }
  }
  return { session: null, rejected: reason }
}
