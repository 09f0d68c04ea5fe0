import { generateSessionId, sessionRef } from '../codec/ids.js'
import { TetherError, invalidOption } from '../errors.js'
import type { EventContext } from '../events/types.js'
import type { SessionRecord } from '../stores/types.js'
import { contextMeta } from './binding.js'
import { diffData } from './diff.js'
import { followRenewal } from './follow.js'
import type { SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'
import { assertSize, classOf, idleExpiry, newRecord } from './records.js'
import { destroyChain } from './renewal.js'
import { createSession, storeCall } from './store-call.js'

/**
 * The session a login makes, before it is stored or sealed: a new id (`loginOpts.id`, or a random
 * one), the data kept, `authAt` = now, bound to `ctx`, the cookie settings carried over.
 */
export function loginState(
  opts: ResolvedOptions,
  session: SessionState,
  data: Record<string, unknown>,
  userId: string,
  ctx: EventContext,
  loginOpts: { class?: string; id?: string },
): SessionState {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    throw invalidOption(
      `login(userId) needs a non-empty string of at most 256 characters; got ${typeof userId}`,
    )
  }
  const cls = opts.classes.get(loginOpts.class ?? 'default')
  if (cls === undefined)
    throw invalidOption(
      `login(): session class ${JSON.stringify(loginOpts.class)} is not configured in "classes"`,
    )
  const now = opts.clock.now()
  // One serialisation gives the size, the snapshot and a clean copy of the data.
  const { size, snapshot, set } = diffData(null, data)
  assertSize(opts, size)
  const record = newRecord(now, cls, set)
  record.userId = userId
  record.authAt = now
  record.meta = contextMeta(ctx)
  if (session.record.cookie !== undefined) record.cookie = session.record.cookie
  const id = loginOpts.id ?? generateSessionId()
  const ref = sessionRef(id)
  record.originRef = ref
  return { id, ref, record, isNew: false, snapshot, needsCookie: true }
}

/** New id, same data, `authAt` = now, indexed under `userId`; the old record is removed. */
export async function loginSession(
  opts: ResolvedOptions,
  session: SessionState,
  data: Record<string, unknown>,
  userId: string,
  ctx: EventContext,
  loginOpts: { class?: string; id?: string } = {},
): Promise<SessionState> {
  const next = loginState(opts, session, data, userId, ctx, loginOpts)
  const { ref, record } = next
  const createOpts =
    opts.maxSessionsPerUser === undefined
      ? {}
      : { maxPerUser: opts.maxSessionsPerUser, onLimit: opts.sessionLimit }
  // Under a refusing cap the user's session being replaced would count against it: it goes first.
  const replacesOwn =
    opts.sessionLimit === 'refuse' && !session.isNew && session.record.userId === userId
  if (replacesOwn) await destroyChain(opts, ctx, session.ref, session.id)
  const evicted = await createSession(opts, ctx, ref, record, createOpts)
  if (!session.isNew && !replacesOwn) await destroyChain(opts, ctx, session.ref, session.id)
  for (const gone of evicted)
    opts.emit('session.revoked', ctx, { reason: 'cap', ref: gone, userId })
  opts.emit('session.login', ctx, { ref, userId })
  return next
}

/** Refuses `reauthenticated()` on an anonymous session. */
export function assertLoggedIn(session: SessionState): void {
  if (session.isNew || session.record.userId === undefined) {
    throw invalidOption('reauthenticated() needs a logged-in session: call login(userId) first')
  }
}

export async function reauthenticateSession(
  opts: ResolvedOptions,
  session: SessionState,
  ctx: EventContext,
  reauthOpts: { id?: string } = {},
): Promise<SessionState> {
  assertLoggedIn(session)
  const current = { ...session }
  // What is stored now, not what this request loaded: a parallel write or renewal may have landed.
  let stored = await storeCall(opts, 'get', ctx, () => opts.store.get(current.ref))
  if (stored === null && (await followRenewal(opts, current, ctx))) stored = current.record
  if (stored === null) {
    throw new TetherError(
      'TETHER_SESSION_NOT_FOUND',
      'reauthenticated(): the session no longer exists in the store',
    )
  }
  const now = opts.clock.now()
  // A new id, as at login (ASVS 7.2.4). Data, user, class, creation time (so the absolute
  // lifetime) and the CSRF anchor stay; proven again from this context, it becomes the bound one.
  const record: SessionRecord = {
    ...stored,
    v: 1,
    authAt: now,
    meta: contextMeta(ctx),
    lastSeenAt: now,
    idleExpiresAt: idleExpiry(now, classOf(opts, stored)),
    renewedAt: now,
    originRef: stored.originRef ?? current.ref,
  }
  delete record.unconfirmed
  const id = reauthOpts.id ?? generateSessionId()
  const ref = sessionRef(id)
  // No maxPerUser: the new record replaces the old one, so the user holds no more sessions.
  await createSession(opts, ctx, ref, record)
  // No grace window for the old id: it ends now, with whatever renewal chain led to it.
  await destroyChain(opts, ctx, current.ref, current.id)
  opts.emit('session.login', ctx, { reason: 'reauthenticated', ref, userId: record.userId })
  return {
    ...current,
    id,
    ref,
    record,
    needsCookie: true,
    stepUpRequired: false,
    confirmRenewal: false,
  }
}
