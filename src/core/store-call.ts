import { TetherError, isTetherError } from '../errors.js'
import type { ResolvedOptions } from './options.js'
import type { EventContext } from '../events/types.js'
import type { CreateOptions, SessionRecord } from '../stores/types.js'

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

/**
 * Stores a new session (or logged-in session) under `ref`. A live session already there means its
 * id was not new: random ids do not collide, so a custom `genid` returned an id in use.
 */
export async function createSession(
  opts: ResolvedOptions,
  ctx: EventContext | undefined,
  ref: string,
  record: SessionRecord,
  createOpts: CreateOptions = {},
): Promise<string[]> {
  try {
    return await storeCall(opts, 'create', ctx, () => opts.store.create(ref, record, createOpts))
  } catch (err) {
    if (!isTetherError(err) || err.code !== 'TETHER_SESSION_ID_IN_USE') throw err
    throw new TetherError(
      'TETHER_SESSION_ID_IN_USE',
      '`genid` returned a session id that a live session already holds; it must return a new, ' +
        'unguessable id every time (or leave "genid" unset: 256 random bits)',
      { cause: err },
    )
  }
}
