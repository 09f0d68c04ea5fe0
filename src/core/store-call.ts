import { TetherError, isTetherError } from '../errors.js'
import type { ResolvedOptions } from './options.js'
import type { EventContext } from '../events/types.js'

/** Seconds a client is told to wait when the store is down. */
export const STORE_RETRY_AFTER_S = 1

/**
 * Runs one store operation with the configured time limit. A failure or a time-out emits
 * `store.error` and becomes `TETHER_STORE_UNAVAILABLE`, with the driver's error as `cause`.
 */
export async function storeCall<T>(
  opts: ResolvedOptions,
  op: string,
  ctx: EventContext | undefined,
  run: () => Promise<T>,
  /** False for a call whose failure is an expected outcome (a lost race), not an outage. */
  report = true,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>(function startTimer(_, reject) {
    timer = setTimeout(function storeTimedOut() {
      reject(new Error(`store ${op} took longer than ${opts.storeTimeoutMs} ms`))
    }, opts.storeTimeoutMs)
  })
  try {
    return await Promise.race([run(), timeout])
  } catch (cause) {
    // A store's own TetherError (e.g. TETHER_NOT_SUPPORTED) is a decision, not an outage.
    if (isTetherError(cause)) throw cause
    if (report) opts.emit('store.error', ctx, { reason: op })
    throw new TetherError(
      'TETHER_STORE_UNAVAILABLE',
      `the session store failed during "${op}"; the request was refused rather than served without its session`,
      { cause, retryAfter: STORE_RETRY_AFTER_S },
    )
  } finally {
    clearTimeout(timer)
  }
}
