import { generateSessionId, sessionRef } from '../codec/ids.js'
import { signToken } from '../codec/token.js'
import { isTetherError } from '../errors.js'
import type { EventContext } from '../events/types.js'
import { patchFrom, type SessionFields, type SessionRecord } from '../stores/types.js'
import { diffData, type DataDiff } from './diff.js'
import { followRenewal, stillCurrent } from './follow.js'
import type { CommitInput, CommitOutcome, SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { asWritten, assertSize, classOf, idleExpiry, newRecord, renewalDue } from './records.js'
import { createSession, storeCall } from './store-call.js'

/** A new, not yet stored, anonymous session. */
export function createState(opts: ResolvedOptions, id = generateSessionId()): SessionState {
  const record = newRecord(
    opts.clock.now(),
    opts.classes.get('default')!,
    Object.create(null) as Record<string, unknown>,
  )
  const ref = sessionRef(id)
  record.originRef = ref
  return { id, ref, record, isNew: true, snapshot: null, needsCookie: true }
}

/** The signed token (cookie value) of a session. */
export function tokenOf(opts: ResolvedOptions, session: SessionState): string {
  return signToken(classOf(opts, session.record).signing, session.id, session.record.createdAt)
}

/** What a request changed: the data (checked and measured) and the session's cookie settings. */
export function changesOf(
  opts: ResolvedOptions,
  session: SessionState,
  input: CommitInput,
): { diff: DataDiff; cookieChanged: boolean } {
  const diff = diffData(session.snapshot, input.data)
  assertSize(opts, diff.size)
  // The adapter passes the stored object itself when nothing changed: no serialisation then.
  const cookieChanged =
    input.cookie !== undefined &&
    input.cookie !== session.record.cookie &&
    JSON.stringify(input.cookie) !== JSON.stringify(session.record.cookie)
  return { diff, cookieChanged }
}

/** Writes what the request changed: create, merge, or a lazy touch; see CommitOutcome. */
export async function commitSession(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
  input: CommitInput,
): Promise<CommitOutcome> {
  try {
    return await writeCommit(opts, session, ctx, input)
  } catch (err) {
    // onStoreError 'anonymous': the write is lost (opts.store.error was emitted), the response goes on.
    if (opts.failOpen && isTetherError(err) && err.code === 'TETHER_STORE_UNAVAILABLE')
      return 'none'
    throw err
  }
}

async function writeCommit(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
  input: CommitInput,
): Promise<CommitOutcome> {
  const now = opts.clock.now()
  const { diff, cookieChanged } = changesOf(opts, session, input)
  const cls = classOf(opts, session.record)
  // The session dies no later than its cookie: expiry on the server and in the browser never drift apart.
  const times = {
    lastSeenAt: now,
    idleExpiresAt: Math.min(idleExpiry(now, cls), input.cookieExpiresAt ?? Infinity),
  }
  if (session.isNew) {
    if (!diff.changed && !input.saveNew && !input.force) return 'none'
    const record: SessionRecord = { ...session.record, ...times, data: diff.set }
    if (input.cookie !== undefined) record.cookie = input.cookie
    await createSession(opts, ctx, session.ref, record)
    Object.assign(session, { record, isNew: false, snapshot: diff.snapshot })
    opts.emit('session.created', ctx, { ref: session.ref })
    return 'created'
  }
  const confirm = session.confirmRenewal === true
  if (diff.changed || cookieChanged || input.force || confirm) {
    const fields: SessionFields = cookieChanged ? { cookie: input.cookie! } : {}
    if (confirm) fields.unconfirmed = undefined
    // `next` is the change applied to the record this request holds, which is the stored one at
    // its version (records.ts, asWritten): a store may write it as is at that version.
    const change = { set: diff.set, unset: diff.unset, fields, times }
    let patch = patchFrom(session.record, change)
    let result = await storeCall(opts, 'update', ctx, () => opts.store.update(session.ref, patch))
    // Renewed by a parallel request since this one loaded it: the write goes to the successor.
    if (!result.ok && (await followRenewal(opts, session, ctx))) {
      patch = patchFrom(session.record, change)
      result = await storeCall(opts, 'update', ctx, () => opts.store.update(session.ref, patch))
    }
    if (!result.ok) return 'gone'
    Object.assign(session, { record: asWritten(patch.next, result.v), snapshot: diff.snapshot })
    session.confirmRenewal = false
    return diff.changed || cookieChanged ? 'updated' : 'resaved'
  }
  if (renewalDue(opts, session.record, now) && !(await stillCurrent(opts, session, ctx)))
    return 'gone'
  if (now - session.record.lastSeenAt < cls.touchAfterMs) return 'none'
  const touch = () => opts.store.touch(session.ref, times)
  let touched = await storeCall(opts, 'touch', ctx, touch)
  if (!touched && (await followRenewal(opts, session, ctx)))
    touched = await storeCall(opts, 'touch', ctx, touch)
  if (!touched) return 'gone'
  session.record = { ...session.record, ...times }
  return 'touched'
}
