/**
 * Session renewal: every `renewAfter` a session gets a new id while its data, creation time and
 * user stay. The old record is ended and a marker is left under a key derived from its ref,
 * naming the successor and the end of the grace window. A request with the old id follows the
 * marker; after the grace window, once the new id has been used, the old id means two parties
 * hold the session and the manager revokes it (reason `reuse`). A marker lives as long as an unused
 * successor could (the class's idle timeout): an id older than that is simply refused.
 */
import { renewedId, sessionRef } from '../codec/ids.js'
import type { EventContext } from '../events/types.js'
import { patchFrom, type SessionRecord } from '../stores/types.js'
import type { SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { storeCall } from './store-call.js'

/**
 * Longest chain of renewals followed. Markers expire after an idle timeout, so a chain is as long
 * as idleTimeout / renewAfter (2 or 3 with the defaults); past this bound an id is refused.
 */
const MAX_HOPS = 64

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
  /** Keys of the markers followed, oldest first. */
  markers: string[]
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
  const markers: string[] = []
  let first: SessionRecord | undefined
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    const key = markerKey(ref)
    const marker = await storeCall(opts, 'get', ctx, () => store.get(key))
    if (marker === null || typeof marker.rotatedTo !== 'string') break
    markers.push(key)
    first ??= marker
    const nextId = id === undefined ? undefined : renewedId(id)
    if (nextId !== undefined && sessionRef(nextId) !== marker.rotatedTo) return null
    const nextRef = marker.rotatedTo
    const record = await storeCall(opts, 'get', ctx, () => store.get(nextRef))
    if (record !== null) {
      const used = hops > 0 || record.unconfirmed !== true
      return { id: nextId, ref: nextRef, record, marker: first, used, markers }
    }
    ref = nextRef
    id = nextId
  }
  // The session this chain led to has ended: its markers lead nowhere, so a replay of any of these
  // ids costs one read from now on.
  await dropMarkers(opts, ctx, markers)
  return null
}

/** Removes renewal markers; best effort (an expired marker goes by itself). */
export async function dropMarkers(
  opts: ResolvedOptions,
  ctx: EventContext | undefined,
  keys: readonly string[],
): Promise<void> {
  await Promise.allSettled(
    keys.map((key) => storeCall(opts, 'destroy', ctx, () => opts.store.destroy(key), false)),
  )
}

/**
 * Ends the session under `ref` and whatever it was or is being renewed into: the record goes first,
 * so a renewal still in flight finds it changed and undoes itself; then the markers are followed
 * and each session they lead to is removed with them.
 */
export async function destroyChain(
  opts: ResolvedOptions,
  ctx: EventContext | undefined,
  ref: string,
  id?: string,
): Promise<void> {
  const { store } = opts
  await storeCall(opts, 'destroy', ctx, () => store.destroy(ref))
  if (opts.renewAfterMs === null) return
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    const next = await findSuccessor(opts, ctx, ref, id)
    if (next === null) return
    await storeCall(opts, 'destroy', ctx, () => store.destroy(next.ref))
    await dropMarkers(opts, ctx, next.markers)
    ref = next.ref
    id = next.id
  }
}

/**
 * Gives `session` its next id: leaves the marker (which also serves as the lock), creates the
 * successor (same record, version 1), then ends the old record if it is still at the version this
 * request read. Losing a race to a parallel renewal or write is not an error: the session then
 * goes on under its current id (and a commit through it follows the marker). Store failures here
 * are left to the request's next store call to report.
 */
export async function renew(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
  idleSpanMs: number,
): Promise<SessionState> {
  const { store, clock } = opts
  const now = clock.now()
  const { record } = session
  const id = renewedId(session.id)
  const ref = sessionRef(id)
  const renewed: SessionRecord = {
    ...record,
    v: 1,
    renewedAt: now,
    unconfirmed: true,
    originRef: record.originRef ?? session.ref,
  }
  const marker: SessionRecord = {
    v: 1,
    data: {},
    createdAt: record.createdAt,
    lastSeenAt: now,
    // As long as an unused successor could live: until then the old id may be its only holder's.
    idleExpiresAt: Math.min(record.absoluteExpiresAt, now + idleSpanMs),
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
  if (!claimed) {
    // A write landed in between (or the store failed): undo, and renew on a later request.
    await Promise.allSettled([
      storeCall(opts, 'destroy', ctx, () => store.destroy(ref), false),
      storeCall(opts, 'destroy', ctx, () => store.destroy(markerKey(session.ref)), false),
    ])
    return session
  }
  opts.emit('session.regenerated', ctx, { reason: 'renewed', ref, userId: record.userId })
  // The new id has not reached its holder yet: only a request presenting it confirms it.
  return { ...session, id, ref, record: renewed, needsCookie: true, confirmRenewal: false }
}

/**
 * Creates the successor, then ends the old record (an expiry in the past, out of its user's
 * index) only if it is still at the version this request read. False: not renewed (a parallel
 * write won, or the store failed).
 */
async function claim(
  opts: ResolvedOptions,
  ctx: EventContext,
  session: SessionState,
  ref: string,
  renewed: SessionRecord,
): Promise<boolean> {
  const { store } = opts
  const { record } = session
  const change = {
    set: {},
    unset: [],
    fields: record.userId === undefined ? {} : { userId: undefined },
    times: { lastSeenAt: record.lastSeenAt, idleExpiresAt: 0 },
  }
  const end = patchFrom(record, change)
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
    // Unknown whether the old record ended; undone either way, so a logout or revocation racing
    // this renewal can never be outlived by the successor (at worst the user logs in again).
    return false
  }
}
