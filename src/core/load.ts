import { patchFrom, type SessionRecord } from '../stores/types.js'
import { bindingMismatch, contextMeta } from './binding.js'
import { snapshotData } from './diff.js'
import type { LoadOutcome, RequestContext, SessionState } from './manager-types.js'
import type { NotBeforeGate } from './not-before.js'
import type { ResolvedOptions } from './options.js'
import { asWritten, classOf, idleExpiry, renewalDue } from './records.js'
import { destroyChain, dropMarkers, findSuccessor, renew } from './renewal.js'
import { storeCall } from './store-call.js'
import { rejectToken } from './reject-token.js'

/** A session found for a cookie; `followed` when through a renewal marker. */
interface Found {
  id: string
  ref: string
  record: SessionRecord
  followed: boolean
  /** Followed past the grace window to a session whose new id is in use. */
  reuse: boolean
  /** Keys of the renewal markers followed. */
  markers: string[]
}

/**
 * Loads the session a request's token names: verified before any store I/O (a forged or expired
 * token costs one HMAC at most: src/codec/verified-tokens.ts), then the record, the "not before"
 * mark, expiry, binding and renewal.
 */
export async function loadSession(
  opts: ResolvedOptions,
  notBefore: NotBeforeGate,
  ctx: RequestContext,
): Promise<LoadOutcome> {
  if (ctx.token === undefined) return { session: null, rejected: 'none' }
  const now = opts.clock.now()
  const verified = opts.verifyToken(ctx.token, now)
  // Rejected before any store I/O: a forged or expired cookie costs one HMAC at most.
  if (!verified.ok) return rejectToken(opts, ctx, verified.reason)
  let found: Found | null
  let notBeforeAt: number | null
  try {
    // Side by side: the mark is mostly cached, and when it is read it adds no round trip.
    ;[found, notBeforeAt] = await Promise.all([
      lookup(opts, verified.id, verified.ref, now, ctx),
      notBefore.current(ctx),
    ])
  } catch (err) {
    if (opts.failOpen) return { session: null, rejected: 'store_error' }
    throw err
  }
  // A record whose creation time differs from the signed one is not the session this cookie named.
  if (found === null || found.record.createdAt !== verified.createdAt) {
    // Signed by us, yet no live session (ended, revoked, expired): a replayed cookie is logged.
    // The ref of a record with another creation time belongs to another session: not given out.
    const unknown =
      found === null ? { reason: 'not_found', ref: verified.ref } : { reason: 'created_mismatch' }
    opts.emit('session.unknown', ctx, unknown)
    return { session: null, rejected: 'not_found' }
  }
  const { ref, record, followed } = found
  if (notBeforeAt !== null && verified.createdAt < notBeforeAt) {
    // Ended by revokeAllSessions(): the signed creation time is before the mark.
    await destroyChain(opts, ctx, ref, found.id)
    await dropMarkers(opts, ctx, found.markers)
    opts.emit('session.revoked', ctx, { reason: 'all', ref, userId: record.userId })
    return { session: null, rejected: 'revoked' }
  }
  if (followed && found.reuse) {
    // The id was renewed, the grace window is over and the new id is in use: two parties hold it.
    await destroyChain(opts, ctx, ref, found.id)
    await dropMarkers(opts, ctx, found.markers)
    opts.emit('session.revoked', ctx, { reason: 'reuse', ref, userId: record.userId })
    return { session: null, rejected: 'reuse' }
  }
  if (now >= record.absoluteExpiresAt) {
    opts.emit('session.expired_absolute', ctx, { ref, userId: record.userId })
    return { session: null, rejected: 'expired_absolute' }
  }
  if (now >= record.idleExpiresAt) {
    opts.emit('session.expired_idle', ctx, { ref, userId: record.userId })
    await storeCall(opts, 'destroy', ctx, () => opts.store.destroy(ref)).catch(() => {})
    return { session: null, rejected: 'expired_idle' }
  }
  let session: SessionState = {
    id: found.id,
    ref,
    record,
    isNew: false,
    snapshot: snapshotData(record.data),
    // A followed renewal hands out the new id.
    needsCookie: followed || verified.key !== classOf(opts, record).signing,
  }
  // The renewed id came back from the client: from now on the old one is a replay.
  if (!followed && record.unconfirmed === true) session.confirmRenewal = true
  if (record.userId !== undefined && !(await checkBinding(opts, session, ctx))) {
    return { session: null, rejected: 'binding' }
  }
  if (!followed && renewalDue(opts, session.record, now))
    session = await renew(opts, session, ctx, idleExpiry(0, classOf(opts, record)))
  return { session }
}

/** The live session an id names: its own record, or the one a renewal turned it into. */
export async function lookup(
  opts: ResolvedOptions,
  id: string,
  ref: string,
  now: number,
  ctx: RequestContext,
): Promise<Found | null> {
  const record = await storeCall(opts, 'get', ctx, () => opts.store.get(ref))
  if (record !== null) return { id, ref, record, followed: false, reuse: false, markers: [] }
  if (opts.renewAfterMs === null) return null
  const next = await findSuccessor(opts, ctx, ref, id)
  if (next === null) return null
  // Past the grace window the old id is a replay, unless the new id never reached its holder
  // (the renewing response was lost): then the old id's holder is still the only one.
  const reuse = now >= next.marker.graceUntil! && next.used
  const { ref: headRef, record: head, markers, marker } = next
  if (!next.used && now - marker.lastSeenAt >= classOf(opts, head).touchAfterMs) {
    // The old id is still its holder's only one: its marker lives as long as the session it
    // leads to is used through it.
    const idleExpiresAt = Math.min(marker.absoluteExpiresAt, idleExpiry(now, classOf(opts, head)))
    const times = { lastSeenAt: now, idleExpiresAt }
    await storeCall(opts, 'touch', ctx, () => opts.store.touch(markers[0]!, times))
  }
  return { id: next.id!, ref: headRef, record: head, followed: true, reuse, markers }
}

/** Applies the binding policy; false when the session was revoked for it. */
export async function checkBinding(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: RequestContext,
): Promise<boolean> {
  const { record, ref } = session
  const mismatch = bindingMismatch(record.meta, ctx)
  if (mismatch === null) return true
  opts.emit('session.binding_mismatch', ctx, { reason: mismatch, ref, userId: record.userId })
  switch (opts.binding) {
    case 'revoke':
      await destroyChain(opts, ctx, ref, session.id)
      opts.emit('session.revoked', ctx, { reason: 'binding', ref, userId: record.userId })
      return false
    case 'step-up':
      session.stepUpRequired = true
      return true
    case 'log': {
      // Follow the session to its new context, so the event fires once per change, not per request.
      const meta = contextMeta(ctx)
      const times = { lastSeenAt: record.lastSeenAt, idleExpiresAt: record.idleExpiresAt }
      const patch = patchFrom(record, { set: {}, unset: [], fields: { meta }, times })
      const result = await storeCall(opts, 'update', ctx, () => opts.store.update(ref, patch))
      if (result.ok) session.record = asWritten(patch.next, result.v)
      return true
    }
  }
}
