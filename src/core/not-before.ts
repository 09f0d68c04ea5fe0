/**
 * "Not before" marks as the manager reads them. The store-wide mark behind `revokeAllSessions()`:
 * every session whose signed creation time is before the mark is refused, renewed ones too (a
 * renewal keeps `createdAt`). In sealed mode the same cache holds per-user and per-session marks
 * too (core/sealed/revocation.ts). Each manager caches a mark for `revocationCheckInterval`, so it
 * costs at most one store read per scope per process per interval, never one per request; that
 * interval is also the longest another process may still accept an old session after a mark is
 * set (the process that set it refuses at once).
 */
import { TetherError } from '../errors.js'
import type { EventContext } from '../events/types.js'
import type { NotBeforeMarks } from '../stores/types.js'
import type { ResolvedOptions } from './options.js'
import { storeCall } from './store-call.js'

/** Scope of the mark that covers every session of every user. */
export const EVERYONE = '*'

/** Scopes cached at once; past it the oldest entry is dropped (it is read again when needed). */
const MAX_CACHED_SCOPES = 10_000

/** The mark as one manager sees it. */
export interface NotBeforeGate {
  /** Sessions created before this instant are refused; null: no mark (or a store without marks). */
  current: (ctx: EventContext) => Promise<number | null>
  /** Sets the mark to now, on this manager at once and on others within their interval. */
  revokeAll: () => Promise<number>
  /** The per-scope cache under the gate; null on a store without marks. */
  marks: MarkCache | null
}

/** Marks by scope, each read from the store at most once per `revocationCheckInterval`. */
export interface MarkCache {
  /** The mark of `scope` (cached), or null when there is none. */
  read: (scope: string, ctx: EventContext | undefined) => Promise<number | null>
  /** Sets the mark of `scope` in the store and, at once, in this cache. */
  write: (scope: string, at: number, expiresAt: number) => Promise<void>
}

interface Cached {
  /** The latest mark seen; it only moves forward, even if the store loses it. */
  mark: number | null
  readAt: number
  /** Requests arriving while a read is under way share it. */
  reading: Promise<number | null> | undefined
}

export function hasMarks(store: Partial<NotBeforeMarks>): store is NotBeforeMarks {
  return typeof store.getNotBefore === 'function' && typeof store.setNotBefore === 'function'
}

/** How long a mark must outlive its setting: until every session it covers has expired. */
export function longestLifetimeMs(opts: ResolvedOptions): number {
  let longestMs = 0
  for (const cls of opts.classes.values()) longestMs = Math.max(longestMs, cls.absoluteTimeoutMs)
  return longestMs
}

export function createMarkCache(opts: ResolvedOptions, marks: NotBeforeMarks): MarkCache {
  const { clock } = opts
  const cache = new Map<string, Cached>()

  function entry(scope: string): Cached {
    let found = cache.get(scope)
    if (found === undefined) {
      found = { mark: null, readAt: -Infinity, reading: undefined }
      cache.set(scope, found)
      if (cache.size > MAX_CACHED_SCOPES) dropOldest()
    }
    return found
  }

  function dropOldest(): void {
    for (const [scope, cached] of cache) {
      // The global mark and reads in flight stay.
      if (scope === EVERYONE || cached.reading !== undefined) continue
      cache.delete(scope)
      return
    }
  }

  function raise(cached: Cached, at: number | null): void {
    if (at !== null && (cached.mark === null || at > cached.mark)) cached.mark = at
  }

  async function load(scope: string, cached: Cached, ctx: EventContext | undefined) {
    const startedAt = clock.now()
    const stored = await storeCall(opts, 'getNotBefore', ctx, () => marks.getNotBefore(scope))
    raise(cached, stored)
    cached.readAt = startedAt
    return cached.mark
  }

  function read(scope: string, ctx: EventContext | undefined): Promise<number | null> {
    const cached = entry(scope)
    if (clock.now() - cached.readAt < opts.revocationCheckMs) return Promise.resolve(cached.mark)
    cached.reading ??= load(scope, cached, ctx).finally(function readDone() {
      cached.reading = undefined
    })
    return cached.reading
  }

  async function write(scope: string, at: number, expiresAt: number): Promise<void> {
    await storeCall(opts, 'setNotBefore', undefined, () => marks.setNotBefore(scope, at, expiresAt))
    raise(entry(scope), at)
  }

  return { read, write }
}

export function createNotBeforeGate(
  opts: ResolvedOptions,
  store: Partial<NotBeforeMarks> = opts.store,
): NotBeforeGate {
  const marks = hasMarks(store) ? createMarkCache(opts, store) : null

  function current(ctx: EventContext): Promise<number | null> {
    return marks === null ? Promise.resolve(null) : marks.read(EVERYONE, ctx)
  }

  async function revokeAll(): Promise<number> {
    if (marks === null) {
      throw new TetherError(
        'TETHER_NOT_SUPPORTED',
        'revokeAllSessions() needs a store with "not before" marks (MemoryStore, SqliteStore, ' +
          'RedisStore, PostgresStore); a wrapped express-session store has none. Replace the ' +
          'secret (and every previous one) to end every session there instead',
      )
    }
    const at = opts.clock.now()
    // Kept until every session created before it has passed its absolute lifetime.
    await marks.write(EVERYONE, at, at + longestLifetimeMs(opts))
    opts.emit('session.revoked_all', undefined)
    return at
  }

  return { current, revokeAll, marks }
}
