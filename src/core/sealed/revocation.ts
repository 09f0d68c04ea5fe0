/**
 * Revocation of sealed sessions without a record per session: small "not before" marks in the
 * revocation store (any Tether store with marks), read through the manager's per-scope cache
 * (core/not-before.ts), so a request costs no store I/O while its marks are cached.
 *
 * - `*`: `revokeAllSessions()`; a session created before it is refused (reason `all`).
 * - `user:<userId>`: `revokeUserSessions(userId)`; a session of the user authenticated before it is
 *   refused, unless `keep:<ref>` says it was the one kept (`except`).
 * - `session:<ref>`: `logout()`, `destroy()`, `regenerate()`, `revokeSession(ref)`; set until the
 *   session's absolute expiry, so a copied token of it is refused too.
 */
import { isSessionRef } from '../../codec/ids.js'
import { TetherError } from '../../errors.js'
import type { EventContext } from '../../events/types.js'
import type { NotBeforeMarks } from '../../stores/types.js'
import type { UserSessions } from '../manager-types.js'
import { EVERYONE, longestLifetimeMs, type MarkCache, type NotBeforeGate } from '../not-before.js'
import type { ResolvedOptions } from '../options.js'
import { storeCall } from '../store-call.js'
import type { Unsealed } from './payload.js'

/** Why a sealed session is refused, or how it passes. */
export type Verdict =
  { refused: 'all' | 'user' | 'session' } | { refused: null; keptThrough: number | undefined }

export interface SealedRevocation extends UserSessions {
  /** Reads the session's marks (cached) and says whether it is still valid. */
  check(session: Unsealed, ctx: EventContext): Promise<Verdict>
  /** Ends one session (and every copy of its token) until `absoluteExpiresAt`. */
  endSession(ref: string, absoluteExpiresAt: number): Promise<void>
}

const userScope = (userId: string) => `user:${userId}`
const sessionScope = (ref: string) => `session:${ref}`
const keepScope = (ref: string) => `keep:${ref}`

export function createSealedRevocation(
  opts: ResolvedOptions,
  gate: NotBeforeGate,
): SealedRevocation {
  // The revocation store always has marks (checked in resolveStore).
  const marks = gate.marks as MarkCache
  const store = opts.store as unknown as NotBeforeMarks

  async function check(session: Unsealed, ctx: EventContext): Promise<Verdict> {
    const { record, ref, keptThrough } = session
    const userId = record.userId
    const [all, own, user] = await Promise.all([
      marks.read(EVERYONE, ctx),
      marks.read(sessionScope(ref), ctx),
      userId === undefined ? null : marks.read(userScope(userId), ctx),
    ])
    if (all !== null && record.createdAt < all) return { refused: 'all' }
    if (own !== null && record.createdAt < own) return { refused: 'session' }
    const validFrom = Math.max(record.authAt ?? record.createdAt, keptThrough ?? 0)
    if (user === null || validFrom >= user) return { refused: null, keptThrough }
    // Not cached: read once per kept session, whose next token then carries the mark it passed.
    const kept = await storeCall(opts, 'getNotBefore', ctx, () =>
      store.getNotBefore(keepScope(ref)),
    )
    if (kept !== null && kept >= user) return { refused: null, keptThrough: user }
    return { refused: 'user' }
  }

  function endSession(ref: string, absoluteExpiresAt: number): Promise<void> {
    // Everything under this ref was created before its absolute expiry: every copy is refused.
    return marks.write(sessionScope(ref), absoluteExpiresAt, absoluteExpiresAt)
  }

  async function revokeSession(ref: string, revokeOpts: { userId?: string } = {}) {
    if (revokeOpts.userId !== undefined) {
      throw new TetherError(
        'TETHER_NOT_SUPPORTED',
        'revokeSession(ref, { userId }) cannot check who owns a sealed session: with ' +
          "store: 'sealed' the server keeps no record of it. Call revokeSession(ref) with a ref " +
          'taken from the session itself (req.session.ref), or revokeUserSessions(userId)',
      )
    }
    if (!isSessionRef(ref)) return false
    const until = opts.clock.now() + longestLifetimeMs(opts)
    await marks.write(sessionScope(ref), until, until)
    opts.emit('session.revoked', undefined, { reason: 'user', ref })
    return true
  }

  async function revokeUserSessions(userId: string, revokeOpts: { except?: string } = {}) {
    const at = opts.clock.now()
    const until = at + longestLifetimeMs(opts)
    // The session kept is marked first: no moment where the user mark alone would refuse it.
    if (revokeOpts.except !== undefined && isSessionRef(revokeOpts.except))
      await marks.write(keepScope(revokeOpts.except), at, until)
    await marks.write(userScope(userId), at, until)
    opts.emit('session.revoked', undefined, { reason: 'user', userId })
    // Sealed sessions are not listed anywhere, so how many ended is unknown.
    return 0
  }

  function listUserSessions(): Promise<never> {
    return Promise.reject(
      new TetherError(
        'TETHER_NOT_SUPPORTED',
        "listUserSessions() needs a record of each live session, and store: 'sealed' keeps " +
          'none (each session lives only in its cookie). Use a session store (SqliteStore, ' +
          'RedisStore, PostgresStore) to list sessions; revokeUserSessions(userId) works in ' +
          'both modes',
      ),
    )
  }

  return {
    check,
    endSession,
    listUserSessions,
    revokeSession,
    revokeUserSessions,
    revokeAllSessions: gate.revokeAll,
  }
}
