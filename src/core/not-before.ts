/**
 * The store-wide "not before" mark behind `revokeAllSessions()`: every session whose signed
 * creation time is before the mark is refused, renewed ones too (a renewal keeps `createdAt`).
 * Each manager caches the mark for `revocationCheckInterval`, so it costs at most one store read
 * per process per interval, never one per request; that interval is also the longest another
 * process may still accept an old session after the switch (the process that pulled it refuses
 * at once).
 */
import { TetherError } from '../errors.js'
import type { EventContext } from '../events/types.js'
import type { NotBeforeMarks, SessionStore } from '../stores/types.js'
import type { ResolvedOptions } from './options.js'
import { storeCall } from './store-call.js'

/** Scope of the mark that covers every session of every user. */
export const EVERYONE = '*'

/** The mark as one manager sees it. */
export interface NotBeforeGate {
  /** Sessions created before this instant are refused; null: no mark (or a store without marks). */
  current: (ctx: EventContext) => Promise<number | null>
  /** Sets the mark to now, on this manager at once and on others within their interval. */
  revokeAll: () => Promise<number>
}

function hasMarks(store: SessionStore): store is SessionStore & NotBeforeMarks {
  return typeof store.getNotBefore === 'function' && typeof store.setNotBefore === 'function'
}

export function createNotBeforeGate(opts: ResolvedOptions): NotBeforeGate {
  const { store, clock, emit } = opts
  // The latest mark seen; it only moves forward, even if the store loses it.
  let mark: number | null = null
  let readAt = -Infinity
  // Requests arriving while a read is under way share it.
  let reading: Promise<number | null> | undefined

  async function read(ctx: EventContext, marks: NotBeforeMarks): Promise<number | null> {
    const startedAt = clock.now()
    const stored = await storeCall(opts, 'getNotBefore', ctx, () => marks.getNotBefore(EVERYONE))
    if (stored !== null && (mark === null || stored > mark)) mark = stored
    readAt = startedAt
    return mark
  }

  function current(ctx: EventContext): Promise<number | null> {
    if (!hasMarks(store)) return Promise.resolve(null)
    if (clock.now() - readAt < opts.revocationCheckMs) return Promise.resolve(mark)
    reading ??= read(ctx, store).finally(function readDone() {
      reading = undefined
    })
    return reading
  }

  async function revokeAll(): Promise<number> {
    if (!hasMarks(store)) {
      throw new TetherError(
        'TETHER_NOT_SUPPORTED',
        'revokeAllSessions() needs a store with "not before" marks (MemoryStore, SqliteStore, ' +
          'RedisStore, PostgresStore); a wrapped express-session store has none. Replace the ' +
          'secret (and every previous one) to end every session there instead',
      )
    }
    const at = clock.now()
    // Kept until every session created before it has passed its absolute lifetime.
    let longestMs = 0
    for (const cls of opts.classes.values()) longestMs = Math.max(longestMs, cls.absoluteTimeoutMs)
    await storeCall(opts, 'setNotBefore', undefined, () =>
      store.setNotBefore(EVERYONE, at, at + longestMs),
    )
    if (mark === null || at > mark) mark = at
    emit('session.revoked_all', undefined)
    return at
  }

  return { current, revokeAll }
}
