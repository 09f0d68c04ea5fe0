/**
 * Session renewal: every `renewAfter` a session gets a new id while its data, creation time and
 * user stay. The old record is ended and a marker is left under a key derived from its ref,
 * naming the successor and the end of the grace window. A request with the old id follows the
 * marker; after the grace window, once the new id has been used, the old id means two parties
 * hold the session and the manager revokes it (reason `reuse`).
 */
import { renewedId, sessionRef } from '../codec/ids.js'
import type { EventContext } from '../events/types.js'
import type { SessionPatch, SessionRecord } from '../stores/types.js'
import type { SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { storeCall } from './store-call.js'

/** Longest chain of renewals followed (8 h of sessions renewed every 5 minutes is 96). */
const MAX_HOPS = 128

/** Store key of the marker a renewal leaves for `ref`: no session ref contains a dot. */
export function markerKey(ref: string): string {
  return `${ref}.renewed`
}

/** The live session a renewed-out one now lives as. */
export interface Successor {
  /** Its id, when the caller knew the old id (ids follow from ids; refs do not give ids). */
  id: string | undefined
  ref: string
  record: SessionRecord
  /** The marker left by the first renewal: its `graceUntil` is the old id's. */
  marker: SessionRecord
  /** True once a request presented the first successor's own cookie (or renewed it again). */
  used: boolean
}

/**
 * Follows renewal markers from the (no longer live) session `ref` to the live session at the end
 * of the chain; null when there is none (never renewed, or the renewed session ended since).
 */
export async function findSuccessor(
  opts: ResolvedOptions,
  ctx: EventContext | undefined,
  ref: string,
  id?: string,
): Promise<Successor | null> {
  const { store } = opts
  let first: SessionRecord | undefined
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    const marker = await storeCall(opts, 'get', ctx, () => store.get(markerKey(ref)))
    if (marker === null || typeof marker.rotatedTo !== 'string') return null
    first ??= marker
    const nextId = id === undefined ? undefined : renewedId(id)
    if (nextId !== undefined && sessionRef(nextId) !== marker.rotatedTo) return null
    const nextRef = marker.rotatedTo
    const record = await storeCall(opts, 'get', ctx, () => store.get(nextRef))
    if (record !== null) {
      const used = hops > 0 || record.unconfirmed !== true
      return { id: nextId, ref: nextRef, record, marker: first, used }
    }
    ref = nextRef
    id = nextId
  }
  return null
}

/**
 * Gives `session` its next id: leaves the marker (which also serves as the lock), creates the
 * successor (same record, version 1), then ends the old record if it is still at the version this
 * request read. Losing a race to a
 * parallel renewal or write is not an error: the session then goes on under its current id (and
 * a commit through it follows the marker). Store failures here are left to the request's next
 * store call to report.
 */
export async function renew(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
): Promise<SessionState> {
  const { store, clock } = opts
  const now = clock.now()
  const { record } = session
  const id = renewedId(session.id)
  const ref = sessionRef(id)
  const renewed: SessionRecord = { ...record, v: 1, renewedAt: now, unconfirmed: true }
  const marker: SessionRecord = {
    v: 1,
    data: {},
    createdAt: record.createdAt,
    lastSeenAt: now,
    // Kept as long as the session could live, so a replay is recognised at any time.
    idleExpiresAt: record.absoluteExpiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    sessionClass: record.sessionClass,
    meta: {},
    rotatedTo: ref,
    graceUntil: now + opts.renewGraceMs,
  }
  try {
    // The marker is the lock: of parallel requests renewing this session, one creates it. (It
    // names no user, so a refused create leaves nothing behind in any store's user index.)
    await storeCall(opts, 'create', ctx, () => store.create(markerKey(session.ref), marker), false)
  } catch {
    return session
  }
  const claimed = await claim(opts, ctx, session, ref, renewed)
  if (claimed === false) {
    // A write landed in between: undo, and renew on a later request.
    await Promise.allSettled([
      storeCall(opts, 'destroy', ctx, () => store.destroy(ref), false),
      storeCall(opts, 'destroy', ctx, () => store.destroy(markerKey(session.ref)), false),
    ])
  }
  if (claimed !== true) return session
  opts.emit('session.regenerated', ctx, { reason: 'renewed', ref, userId: record.userId })
  // The new id has not reached its holder yet: only a request presenting it confirms it.
  return { ...session, id, ref, record: renewed, needsCookie: true, confirmRenewal: false }
}

/**
 * Creates the successor, then ends the old record (an expiry in the past, out of its user's
 * index) only if it is still at the version this request read. True: renewed. False: not renewed
 * (a parallel write won, or the store failed before the end). Undefined: unknown, because the
 * store failed; then nothing is undone, so a renewal that did happen keeps its successor.
 */
async function claim(
  opts: ResolvedOptions,
  ctx: EventContext,
  session: SessionState,
  ref: string,
  renewed: SessionRecord,
): Promise<boolean | undefined> {
  const { store } = opts
  const { record } = session
  const end: SessionPatch = {
    set: {},
    unset: [],
    fields: record.userId === undefined ? {} : { userId: undefined },
    times: { lastSeenAt: record.lastSeenAt, idleExpiresAt: 0 },
    next: { ...record, idleExpiresAt: 0, v: record.v + 1 },
  }
  try {
    await storeCall(opts, 'create', ctx, () => store.create(ref, renewed), false)
  } catch {
    return false
  }
  try {
    const result = await storeCall(opts, 'update', ctx, () =>
      store.update(session.ref, end, { ifVersion: record.v }),
    )
    return result.ok
  } catch {
    try {
      // The claim ends the old record: if it is still live, the claim did not happen.
      return (await storeCall(opts, 'get', ctx, () => store.get(session.ref), false)) === null
    } catch {
      return undefined
    }
  }
}
