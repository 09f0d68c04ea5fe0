import { TetherError, isTetherError } from '../errors.js'
import type { ResolvedOptions } from './options.js'
import type { EventContext } from '../events/types.js'
import type { CreateOptions, SessionRecord } from '../stores/types.js'

/** Seconds a client is told to wait when the store is down. */
export const STORE_RETRY_AFTER_S = 1

/**
 * Runs one store operation with the configured time limit. A failure or a time-out becomes
 * `TETHER_STORE_UNAVAILABLE`, with the driver's error as `cause`, and emits `store.error` once per
 * failure burst: the first failure after a success (or at start) emits, the ones that follow it
 * do not until a call succeeds again. An outage under load is one event, not one per request.
 */
export async function storeCall<T>(
  opts: ResolvedOptions,
  op: string,
  ctx: EventContext | undefined,
  run: () => Promise<T>,
  /** False for a call whose failure is an expected outcome (a lost race), not an outage. */
  report = true,
): Promise<T> {
  const { health } = opts
  try {
    const result = await health.deadlines.within(op, run())
    health.failing = false
    return result
  } catch (cause) {
    // A store's own TetherError (e.g. TETHER_NOT_SUPPORTED) is a decision, not an outage.
    if (isTetherError(cause)) throw cause
    if (report && !health.failing) {
      health.failing = true
      opts.emit('store.error', ctx, { reason: op })
    }
    throw new TetherError(
      'TETHER_STORE_UNAVAILABLE',
      `the session store failed during "${op}"; the request was refused rather than served without its session`,
      { cause, retryAfter: STORE_RETRY_AFTER_S },
    )
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
