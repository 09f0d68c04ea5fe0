import { maxPayloadBytes, seal } from '../../codec/seal.js'
import { TetherError } from '../../errors.js'
import type { EventContext } from '../../events/types.js'
import { applyPatch, type SessionRecord } from '../../stores/types.js'
import { changesOf } from '../commit.js'
import type { CommitInput, CommitOutcome, SessionState } from '../manager-types.js'
import type { ResolvedOptions } from '../options.js'
import { classOf, idleExpiry } from '../records.js'
import type { OpenedSeals } from './opened-seals.js'
import { encodePayload } from './payload.js'

/**
 * The most a browser keeps of one cookie's name=value: RFC 6265bis has user agents ignore a cookie
 * whose name and value together pass 4,096 octets. A sealed session that would not fit is refused
 * at commit.
 */
export const COOKIE_BYTES = 4096

/** The cookie name assumed when the caller does not say (the longer of Tether's two defaults). */
const DEFAULT_NAME = '__Host-sid'

/** The sealed tokens of one manager's sessions, sealed once per change. */
export interface SealedTokens {
  /** The token of the session as it stands (sealed now, or the one its commit sealed). */
  token(session: SessionState): string
  /** Seals `record` for `session`; refuses with TETHER_COOKIE_TOO_LARGE when it would not fit. */
  issue(
    session: SessionState,
    record: SessionRecord,
    ctx: EventContext,
    cookieName: string | undefined,
  ): void
}

interface Issued {
  id: string
  record: SessionRecord
  keptThrough: number | undefined
  token: string
}

export function createSealedTokens(opts: ResolvedOptions, seals: OpenedSeals): SealedTokens {
  const issued = new WeakMap<SessionState, Issued>()

  /** Seals `record` for `session`: the token, with its key and payload to keep it opened. */
  function sealRecord(session: SessionState, record: SessionRecord) {
    const payload = encodePayload(session.id, session.ref, record, session.keptThrough)
    const key = classOf(opts, record).signing
    return { token: seal(key, payload), key, payload }
  }

  function token(session: SessionState): string {
    const hit = issued.get(session)
    if (
      hit !== undefined &&
      hit.record === session.record &&
      hit.id === session.id &&
      hit.keptThrough === session.keptThrough
    )
      return hit.token
    // Kept only if a request could send it back (opened-seals.ts refuses one over the cap).
    const { token: sealed, key, payload } = sealRecord(session, session.record)
    seals.remember(sealed, key, payload)
    return sealed
  }

  function issue(
    session: SessionState,
    record: SessionRecord,
    ctx: EventContext,
    cookieName = DEFAULT_NAME,
  ): void {
    const { token: sealed, key, payload } = sealRecord(session, record)
    // name=value; a header token (no name) gets the whole budget.
    const bytes =
      cookieName === '' ? sealed.length : Buffer.byteLength(cookieName) + 1 + sealed.length
    if (bytes > COOKIE_BYTES) {
      opts.emit('session.too_large', ctx, {
        reason: `${bytes} bytes`,
        ref: session.ref,
        userId: record.userId,
      })
      throw tooLarge(opts, session, record, bytes, cookieName)
    }
    // Kept opened only once it is sure to be sent.
    seals.remember(sealed, key, payload)
    const { id, keptThrough } = session
    issued.set(session, { id, record, keptThrough, token: sealed })
  }

  return { token, issue }
}

/** The refusal, with the size and how much data would fit beside this session's own fields. */
function tooLarge(
  opts: ResolvedOptions,
  session: SessionState,
  record: SessionRecord,
  bytes: number,
  cookieName: string,
): TetherError {
  const nameBytes = cookieName === '' ? 0 : Buffer.byteLength(cookieName) + 1
  const kid = classOf(opts, record).signing.kid
  const bare = encodePayload(session.id, session.ref, { ...record, data: {} }, session.keptThrough)
  const fits = maxPayloadBytes(kid, COOKIE_BYTES - nameBytes) - (Buffer.byteLength(bare) - 2)
  const dataBytes = Buffer.byteLength(JSON.stringify(record.data))
  return new TetherError(
    'TETHER_COOKIE_TOO_LARGE',
    `the sealed session would make a ${bytes}-byte cookie (name=value), over the ${COOKIE_BYTES} ` +
      `bytes a browser keeps, so none was sent; its data is ${dataBytes} bytes of JSON and at ` +
      `most ${Math.max(0, fits)} fit beside this session's own fields. Keep large values ` +
      `elsewhere (a database, with their key in the session), or use a session store`,
  )
}

/**
 * Seals what the request changed: a new session, changed data, or (the lazy touch) new times once
 * `touchAfter` has passed since the last seal. Each of these, a login and a key rotation set
 * `needsCookie`: the engine sends the new token. Nothing is written anywhere.
 */
export function commitSealed(
  opts: ResolvedOptions,
  tokens: SealedTokens,
  session: SessionState,
  ctx: EventContext,
  input: CommitInput,
): CommitOutcome {
  const now = opts.clock.now()
  const { diff, cookieChanged } = changesOf(opts, session, input)
  const cls = classOf(opts, session.record)
  const outcome = outcomeOf(session, input, diff.changed || cookieChanged, now, cls.touchAfterMs)
  if (outcome === 'none') {
    // A login, a rotation or a kept session still needs its token sent.
    if (session.needsCookie && !session.isNew)
      tokens.issue(session, session.record, ctx, input.cookieName)
    return 'none'
  }
  // The session dies no later than its cookie: expiry on the server and in the browser never drift apart.
  const times = {
    lastSeenAt: now,
    idleExpiresAt: Math.min(idleExpiry(now, cls), input.cookieExpiresAt ?? Infinity),
  }
  const fields = cookieChanged ? { cookie: input.cookie! } : {}
  const record = applyPatch(session.record, { set: diff.set, unset: diff.unset, fields, times })
  // Sealed and measured before the session changes: a refusal leaves it as it was.
  tokens.issue(session, record, ctx, input.cookieName)
  Object.assign(session, { record, isNew: false, snapshot: diff.snapshot, needsCookie: true })
  if (outcome === 'created') opts.emit('session.created', ctx, { ref: session.ref })
  return outcome
}

function outcomeOf(
  session: SessionState,
  input: CommitInput,
  changed: boolean,
  now: number,
  touchAfterMs: number,
): CommitOutcome {
  if (session.isNew) return changed || input.saveNew || input.force ? 'created' : 'none'
  if (changed) return 'updated'
  if (input.force) return 'resaved'
  return now - session.record.lastSeenAt >= touchAfterMs ? 'touched' : 'none'
}
