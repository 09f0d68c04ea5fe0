import { generateSessionId, sessionRef } from '../codec/ids.js'
import { signToken, verifyToken } from '../codec/token.js'
import { TetherError, invalidOption, isTetherError } from '../errors.js'
import type { EventContext } from '../events/types.js'
import type { SessionFields, SessionRecord } from '../stores/types.js'
import { dataFromSnapshot, diffData, snapshotData } from './diff.js'
import { bindingMismatch, contextMeta } from './binding.js'
import { resolveOptions, type ClassPolicy, type ManagerOptions } from './options.js'
import { createSession, storeCall } from './store-call.js'
import { throttleKey } from './throttle.js'
import { destroyChain, dropMarkers, findSuccessor, renew } from './renewal.js'
import { createUserSessions } from './user-sessions.js'
import { createNotBeforeGate } from './not-before.js'
import type {
  CommitInput,
  CommitOutcome,
  LoadOutcome,
  RequestContext,
  SessionManager,
  SessionState,
} from './manager-types.js'

const MAX_UPDATE_ATTEMPTS = 100

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

/** Builds a session manager; every option is validated here, once. */
export function createSessionManager(options: ManagerOptions): SessionManager {
  const opts = resolveOptions(options)
  const { store, clock, emit } = opts
  const defaultClass = opts.classes.get('default')!
  const notBefore = createNotBeforeGate(opts)

  function idleExpiry(now: number, cls: ClassPolicy): number {
    // touchAfter of slack (at most idleTimeout / 10): a session touched lazily is never expired
    // before idleTimeout of real idleness, nor kept past idleTimeout + 10 %.
    return now + cls.idleTimeoutMs + cls.touchAfterMs
  }

  function classOf(record: SessionRecord): ClassPolicy {
    return opts.classes.get(record.sessionClass) ?? defaultClass
  }

  function newRecord(now: number, cls: ClassPolicy, data: Record<string, unknown>): SessionRecord {
    return {
      v: 1,
      data,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: idleExpiry(now, cls),
      absoluteExpiresAt: now + cls.absoluteTimeoutMs,
      sessionClass: cls.name,
      meta: {},
    }
  }

  function assertSize(size: number): void {
    if (size > opts.maxSessionBytes) {
      throw new TetherError(
        'TETHER_SESSION_TOO_LARGE',
        `session data is about ${size} bytes, over "maxSessionBytes" (${opts.maxSessionBytes}); keep large data elsewhere`,
      )
    }
  }

  function lifetimeOf(key: { sessionClass: string }): number {
    return (opts.classes.get(key.sessionClass) ?? defaultClass).absoluteTimeoutMs
  }

  async function load(ctx: RequestContext): Promise<LoadOutcome> {
    if (ctx.token === undefined) return { session: null, rejected: 'none' }
    const now = clock.now()
    const verified = verifyToken(ctx.token, opts.keys, now, lifetimeOf)
    if (!verified.ok) {
      // Rejected before any store I/O: a forged or expired cookie costs one HMAC.
      const type =
        verified.reason === 'expired_absolute'
          ? 'session.expired_absolute'
          : (`token.${verified.reason}` as const)
      emit(type, ctx)
      if (
        verified.reason !== 'expired_absolute' &&
        opts.throttle !== null &&
        ctx.ip !== undefined
      ) {
        const verdict = opts.throttle(throttleKey(ctx.ip))
        if (verdict.firstOfBurst) emit('ratelimit.blocked', ctx, { reason: verified.reason })
        if (verdict.blocked)
          return { session: null, rejected: verified.reason, retryAfterS: verdict.retryAfterS }
      }
      return { session: null, rejected: verified.reason }
    }
    let found: Found | null
    let notBeforeAt: number | null
    try {
      // Side by side: the mark is mostly cached, and when it is read it adds no round trip.
      ;[found, notBeforeAt] = await Promise.all([
        lookup(verified.id, now, ctx),
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
        found === null
          ? { reason: 'not_found', ref: sessionRef(verified.id) }
          : { reason: 'created_mismatch' }
      emit('session.unknown', ctx, unknown)
      return { session: null, rejected: 'not_found' }
    }
    const { ref, record, followed } = found
    if (notBeforeAt !== null && verified.createdAt < notBeforeAt) {
      // Ended by revokeAllSessions(): the signed creation time is before the mark.
      await destroyChain(opts, ctx, ref, found.id)
      await dropMarkers(opts, ctx, found.markers)
      emit('session.revoked', ctx, { reason: 'all', ref, userId: record.userId })
      return { session: null, rejected: 'revoked' }
    }
    if (followed && found.reuse) {
      // The id was renewed, the grace window is over and the new id is in use: two parties hold it.
      await destroyChain(opts, ctx, ref, found.id)
      await dropMarkers(opts, ctx, found.markers)
      emit('session.revoked', ctx, { reason: 'reuse', ref, userId: record.userId })
      return { session: null, rejected: 'reuse' }
    }
    if (now >= record.absoluteExpiresAt) {
      emit('session.expired_absolute', ctx, { ref, userId: record.userId })
      return { session: null, rejected: 'expired_absolute' }
    }
    if (now >= record.idleExpiresAt) {
      emit('session.expired_idle', ctx, { ref, userId: record.userId })
      await storeCall(opts, 'destroy', ctx, () => store.destroy(ref)).catch(() => {})
      return { session: null, rejected: 'expired_idle' }
    }
    let session: SessionState = {
      id: found.id,
      ref,
      record,
      isNew: false,
      snapshot: snapshotData(record.data),
      // A followed renewal hands out the new id.
      needsCookie: followed || verified.key !== classOf(record).signing,
    }
    // The renewed id came back from the client: from now on the old one is a replay.
    if (!followed && record.unconfirmed === true) session.confirmRenewal = true
    if (record.userId !== undefined && !(await checkBinding(session, ctx))) {
      return { session: null, rejected: 'binding' }
    }
    if (!followed && renewalDue(session.record, now))
      session = await renew(opts, session, ctx, idleExpiry(0, classOf(record)))
    return { session }
  }

  /** The live session an id names: its own record, or the one a renewal turned it into. */
  async function lookup(id: string, now: number, ctx: RequestContext): Promise<Found | null> {
    const ref = sessionRef(id)
    const record = await storeCall(opts, 'get', ctx, () => store.get(ref))
    if (record !== null) return { id, ref, record, followed: false, reuse: false, markers: [] }
    if (opts.renewAfterMs === null) return null
    const next = await findSuccessor(opts, ctx, ref, id)
    if (next === null) return null
    // Past the grace window the old id is a replay, unless the new id never reached its holder
    // (the renewing response was lost): then the old id's holder is still the only one.
    const reuse = now >= next.marker.graceUntil! && next.used
    const { ref: headRef, record: head, markers, marker } = next
    if (!next.used && now - marker.lastSeenAt >= classOf(head).touchAfterMs) {
      // The old id is still its holder's only one: its marker lives as long as the session it
      // leads to is used through it.
      const idleExpiresAt = Math.min(marker.absoluteExpiresAt, idleExpiry(now, classOf(head)))
      const times = { lastSeenAt: now, idleExpiresAt }
      await storeCall(opts, 'touch', ctx, () => store.touch(markers[0]!, times, marker))
    }
    return { id: next.id!, ref: headRef, record: head, followed: true, reuse, markers }
  }

  function renewalDue(record: SessionRecord, now: number): boolean {
    return (
      opts.renewAfterMs !== null &&
      now - (record.renewedAt ?? record.createdAt) >= opts.renewAfterMs
    )
  }

  /**
   * After a store call found the session gone: if a parallel request renewed it, moves `session`
   * to its successor (the response then sends the new cookie) and returns true.
   */
  async function followRenewal(session: SessionState, ctx: EventContext): Promise<boolean> {
    if (opts.renewAfterMs === null || session.isNew) return false
    const next = await findSuccessor(opts, ctx, session.ref, session.id)
    if (next === null || next.record.createdAt !== session.record.createdAt) return false
    Object.assign(session, { id: next.id!, ref: next.ref, record: next.record, needsCookie: true })
    session.confirmRenewal = false
    return true
  }

  /**
   * For a commit that would write nothing: a session past its renewal deadline may have been
   * renewed by a parallel request since this one loaded it, and then this response must carry the
   * new id, not re-send the old one (`rolling`, a key rotation). False when the session is gone.
   */
  async function stillCurrent(session: SessionState, ctx: EventContext): Promise<boolean> {
    const live = await storeCall(opts, 'get', ctx, () => store.get(session.ref))
    return live !== null || (await followRenewal(session, ctx))
  }

  /** Applies the binding policy; false when the session was revoked for it. */
  async function checkBinding(session: SessionState, ctx: RequestContext): Promise<boolean> {
    const { record, ref } = session
    const mismatch = bindingMismatch(record.meta, ctx)
    if (mismatch === null) return true
    emit('session.binding_mismatch', ctx, { reason: mismatch, ref, userId: record.userId })
    switch (opts.binding) {
      case 'revoke':
        await destroyChain(opts, ctx, ref, session.id)
        emit('session.revoked', ctx, { reason: 'binding', ref, userId: record.userId })
        return false
      case 'step-up':
        session.stepUpRequired = true
        return true
      case 'log': {
        // Follow the session to its new context, so the event fires once per change, not per request.
        const meta = contextMeta(ctx)
        const times = { lastSeenAt: record.lastSeenAt, idleExpiresAt: record.idleExpiresAt }
        const next = { ...record, meta, v: record.v + 1 }
        const patch = { set: {}, unset: [], fields: { meta }, times, next }
        const result = await storeCall(opts, 'update', ctx, () => store.update(ref, patch))
        if (result.ok) session.record = result.record
        return true
      }
    }
  }

  function create(_ctx: EventContext, id = generateSessionId()): SessionState {
    const record = newRecord(
      clock.now(),
      defaultClass,
      Object.create(null) as Record<string, unknown>,
    )
    const ref = sessionRef(id)
    record.originRef = ref
    return { id, ref, record, isNew: true, snapshot: null, needsCookie: true }
  }

  function token(session: SessionState): string {
    return signToken(classOf(session.record).signing, session.id, session.record.createdAt)
  }

  async function commit(
    session: SessionState,
    ctx: EventContext,
    input: CommitInput,
  ): Promise<CommitOutcome> {
    try {
      return await writeCommit(session, ctx, input)
    } catch (err) {
      // onStoreError 'anonymous': the write is lost (store.error was emitted), the response goes on.
      if (opts.failOpen && isTetherError(err) && err.code === 'TETHER_STORE_UNAVAILABLE')
        return 'none'
      throw err
    }
  }

  async function writeCommit(
    session: SessionState,
    ctx: EventContext,
    input: CommitInput,
  ): Promise<CommitOutcome> {
    const now = clock.now()
    const diff = diffData(session.snapshot, input.data)
    assertSize(diff.size)
    // The adapter passes the stored object itself when nothing changed: no serialisation then.
    const cookieChanged =
      input.cookie !== undefined &&
      input.cookie !== session.record.cookie &&
      JSON.stringify(input.cookie) !== JSON.stringify(session.record.cookie)
    const cls = classOf(session.record)
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
      emit('session.created', ctx, { ref: session.ref })
      return 'created'
    }
    const confirm = session.confirmRenewal === true
    if (diff.changed || cookieChanged || input.force || confirm) {
      const fields: SessionFields = cookieChanged ? { cookie: input.cookie! } : {}
      if (confirm) fields.unconfirmed = undefined
      const patchFor = (record: SessionRecord) => {
        const next: SessionRecord = { ...record, ...times, data: input.data, v: record.v + 1 }
        if (cookieChanged) next.cookie = input.cookie!
        if (confirm) delete next.unconfirmed
        return { set: diff.set, unset: diff.unset, fields, times, next }
      }
      let result = await storeCall(opts, 'update', ctx, () =>
        store.update(session.ref, patchFor(session.record)),
      )
      // Renewed by a parallel request since this one loaded it: the write goes to the successor.
      if (!result.ok && (await followRenewal(session, ctx)))
        result = await storeCall(opts, 'update', ctx, () =>
          store.update(session.ref, patchFor(session.record)),
        )
      if (!result.ok) return 'gone'
      Object.assign(session, { record: result.record, snapshot: diff.snapshot })
      session.confirmRenewal = false
      return diff.changed || cookieChanged ? 'updated' : 'resaved'
    }
    if (renewalDue(session.record, now) && !(await stillCurrent(session, ctx))) return 'gone'
    if (now - session.record.lastSeenAt < cls.touchAfterMs) return 'none'
    const touch = () => store.touch(session.ref, times, session.record)
    let touched = await storeCall(opts, 'touch', ctx, touch)
    if (!touched && (await followRenewal(session, ctx)))
      touched = await storeCall(opts, 'touch', ctx, touch)
    if (!touched) return 'gone'
    session.record = { ...session.record, ...times }
    return 'touched'
  }

  async function destroy(session: SessionState, ctx: EventContext): Promise<void> {
    if (!session.isNew) await destroyChain(opts, ctx, session.ref, session.id)
    emit('session.destroyed', ctx, { ref: session.ref, userId: session.record.userId })
  }

  async function reload(session: SessionState, ctx: EventContext): Promise<SessionState | null> {
    const moved = { ...session }
    let record = await storeCall(opts, 'get', ctx, () => store.get(session.ref))
    if (record === null && (await followRenewal(moved, ctx))) record = moved.record
    if (record === null) return null
    return { ...moved, record, isNew: false, snapshot: snapshotData(record.data) }
  }

  async function login(
    session: SessionState,
    data: Record<string, unknown>,
    userId: string,
    ctx: EventContext,
    loginOpts: { class?: string; id?: string } = {},
  ): Promise<SessionState> {
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
    const now = clock.now()
    // One serialisation gives the size, the snapshot and a clean copy of the data.
    const { size, snapshot, set } = diffData(null, data)
    assertSize(size)
    const record = newRecord(now, cls, set)
    record.userId = userId
    record.authAt = now
    record.meta = contextMeta(ctx)
    if (session.record.cookie !== undefined) record.cookie = session.record.cookie
    const id = loginOpts.id ?? generateSessionId()
    const ref = sessionRef(id)
    record.originRef = ref
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
    for (const gone of evicted) emit('session.revoked', ctx, { reason: 'cap', ref: gone, userId })
    emit('session.login', ctx, { ref, userId })
    return { id, ref, record, isNew: false, snapshot, needsCookie: true }
  }

  async function reauthenticate(
    session: SessionState,
    ctx: EventContext,
    reauthOpts: { id?: string } = {},
  ): Promise<SessionState> {
    if (session.isNew || session.record.userId === undefined) {
      throw invalidOption('reauthenticated() needs a logged-in session: call login(userId) first')
    }
    const current = { ...session }
    // What is stored now, not what this request loaded: a parallel write or renewal may have landed.
    let stored = await storeCall(opts, 'get', ctx, () => store.get(current.ref))
    if (stored === null && (await followRenewal(current, ctx))) stored = current.record
    if (stored === null) {
      throw new TetherError(
        'TETHER_SESSION_NOT_FOUND',
        'reauthenticated(): the session no longer exists in the store',
      )
    }
    const now = clock.now()
    // A new id, as at login (ASVS 7.2.4). Data, user, class, creation time (so the absolute
    // lifetime) and the CSRF anchor stay; proven again from this context, it becomes the bound one.
    const record: SessionRecord = {
      ...stored,
      v: 1,
      authAt: now,
      meta: contextMeta(ctx),
      lastSeenAt: now,
      idleExpiresAt: idleExpiry(now, classOf(stored)),
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
    emit('session.login', ctx, { reason: 'reauthenticated', ref, userId: record.userId })
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

  async function update(
    session: SessionState,
    fn: (
      data: Record<string, unknown>,
    ) => void | Record<string, unknown> | Promise<void | Record<string, unknown>>,
    ctx: EventContext,
  ): Promise<SessionState> {
    const current = { ...session }
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      let record = await storeCall(opts, 'get', ctx, () => store.get(current.ref))
      if (record === null && (await followRenewal(current, ctx))) record = current.record
      if (record === null)
        throw new TetherError(
          'TETHER_SESSION_NOT_FOUND',
          'session.update(): the session no longer exists in the store',
        )
      const before = snapshotData(record.data)
      const draft = dataFromSnapshot(before)
      const data = (await fn(draft)) ?? draft
      const diff = diffData(before, data)
      assertSize(diff.size)
      const now = clock.now()
      const times = { lastSeenAt: now, idleExpiresAt: idleExpiry(now, classOf(record)) }
      const next: SessionRecord = { ...record, ...times, data, v: record.v + 1 }
      const patch = { set: diff.set, unset: diff.unset, fields: {}, times, next }
      const result = await storeCall(opts, 'update', ctx, () =>
        store.update(current.ref, patch, { ifVersion: record.v }),
      )
      // The version matched, so what is stored now is exactly `data`.
      if (result.ok) return { ...current, record: result.record, snapshot: diff.snapshot }
      // Renewed meanwhile: the next attempt reads the successor.
      if (result.reason === 'missing' && (await followRenewal(current, ctx))) continue
      if (result.reason === 'missing')
        throw new TetherError(
          'TETHER_SESSION_NOT_FOUND',
          'session.update(): the session no longer exists in the store',
        )
      // Lost the race: back off a random moment so contenders spread out, then read again.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 20)))
    }
    throw new TetherError(
      'TETHER_VERSION_CONFLICT',
      `session.update(): gave up after ${MAX_UPDATE_ATTEMPTS} version conflicts`,
    )
  }

  async function close(): Promise<void> {
    if (opts.ownsStore) await store.close?.()
  }

  return {
    options: opts,
    load,
    create,
    token,
    commit,
    destroy,
    reload,
    login,
    reauthenticate,
    update,
    close,
    ...createUserSessions(opts, notBefore),
  }
}
