import { createHmac, timingSafeEqual } from 'node:crypto'
import { isCanonicalBase64url } from './base64url.js'
import type { KeyEntry } from './keyring.js'

/**
 * Cookie value layout (version 1):
 *
 *   t1.<kid>.<createdAt base36>.<id segment>.<mac>
 *
 * mac = base64url(HMAC-SHA256(cookie-mac key of <kid>, everything before the last dot)).
 * The id segment is the id itself when it is base64url (every generated id is), else `~` +
 * base64url(UTF-8 of the id) for ids from a custom `genid`.
 */
export const TOKEN_VERSION = 't1'

/** Longest cookie value looked at; anything longer is rejected before it is parsed. */
export const MAX_TOKEN_LENGTH = 256

/** Longest id a custom `genid` may return, in UTF-8 bytes. */
export const MAX_ID_BYTES = 128

/** Clock skew tolerated for a creation time in the future. */
const FUTURE_SKEW_MS = 60_000

export type VerifyFailure = 'malformed' | 'forged' | 'unknown_key' | 'expired_absolute'

export type VerifyResult =
  | {
      readonly ok: true
      readonly id: string
      readonly createdAt: number
      readonly key: KeyEntry
    }
  | { readonly ok: false; readonly reason: VerifyFailure }

type Failed = Extract<VerifyResult, { ok: false }>

const MAC_LENGTH = 43 // base64url of 32 bytes, no padding
const SAFE_SEGMENT = /^[A-Za-z0-9_-]+$/
const CREATED_AT = /^[0-9a-z]{1,11}$/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function macOf(key: KeyEntry, payload: string): Buffer {
  return createHmac('sha256', key.macKey).update(payload).digest()
}

function encodeId(id: string): string {
  return SAFE_SEGMENT.test(id) ? id : '~' + Buffer.from(id, 'utf8').toString('base64url')
}

function decodeId(segment: string): string | null {
  if (segment.charCodeAt(0) !== 126 /* ~ */) return SAFE_SEGMENT.test(segment) ? segment : null
  const body = segment.slice(1)
  if (!SAFE_SEGMENT.test(body)) return null
  const id = Buffer.from(body, 'base64url').toString('utf8')
  // Round-trip check: rejects non-canonical base64url and invalid UTF-8.
  return encodeId(id) === segment ? id : null
}

/** Signs a session id and its creation time with `key`. */
export function signToken(key: KeyEntry, id: string, createdAt: number): string {
  const payload = `${TOKEN_VERSION}.${key.kid}.${createdAt.toString(36)}.${encodeId(id)}`
  return `${payload}.${macOf(key, payload).toString('base64url')}`
}

/**
 * Verifies a cookie value. Never throws and never does I/O: every failure is a typed result.
 * @param lifetimeMs absolute session lifetime for the key's session class
 */
export function verifyToken(
  value: string,
  keys: ReadonlyMap<string, KeyEntry>,
  now: number,
  lifetimeMs: (key: KeyEntry) => number,
): VerifyResult {
  const signed = verifyMac(value, keys)
  if (!signed.ok) return signed
  return checkTimes(signed.createdAt, now, lifetimeMs(signed.key)) ?? signed
}

/** What `verifyMac` finds: a token this keyring signed, whatever its times, or why not. */
export type MacResult =
  | Extract<VerifyResult, { ok: true }>
  | { readonly ok: false; readonly reason: Exclude<VerifyFailure, 'expired_absolute'> }

/**
 * The shape and MAC checks of `verifyToken`, without the times: `checkTimes` gives those. What it
 * answers for a given text never changes while the keyring does not.
 */
export function verifyMac(value: string, keys: ReadonlyMap<string, KeyEntry>): MacResult {
  // Length cap before any parsing: a 10 KB header costs one comparison.
  if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH || value.length < 10) {
    return MALFORMED
  }
  const macDot = value.lastIndexOf('.')
  const parts = value.slice(0, macDot).split('.')
  if (macDot < 0 || parts.length !== 4 || parts[0] !== TOKEN_VERSION) return MALFORMED
  const [, kid, created, idSegment] = parts as [string, string, string, string]
  const macText = value.slice(macDot + 1)
  if (macText.length !== MAC_LENGTH || !SAFE_SEGMENT.test(macText) || !CREATED_AT.test(created)) {
    return MALFORMED
  }
  const id = decodeId(idSegment)
  if (id === null || id.length === 0) return MALFORMED

  const key = keys.get(kid)
  if (key === undefined) return UNKNOWN_KEY
  // Non-canonical base64url can decode to the right bytes: refused, so each token has exactly one
  // accepted spelling.
  if (!isCanonicalBase64url(macText)) return FORGED
  const presented = Buffer.from(macText, 'base64url')
  const expected = macOf(key, value.slice(0, macDot))
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return FORGED

  return { ok: true, id, createdAt: parseInt(created, 36), key }
}

/**
 * The time checks of a token signed at `createdAt`: `malformed` when it claims to be from the
 * future (past the tolerated skew), `expired_absolute` past its lifetime, else null.
 */
export function checkTimes(createdAt: number, now: number, lifetimeMs: number): Failed | null {
  if (createdAt > now + FUTURE_SKEW_MS) return MALFORMED
  if (now >= createdAt + lifetimeMs) return EXPIRED
  return null
}

type MacFailed = Extract<MacResult, { ok: false }>
const MALFORMED: MacFailed = Object.freeze({ ok: false, reason: 'malformed' })
const FORGED: MacFailed = Object.freeze({ ok: false, reason: 'forged' })
const UNKNOWN_KEY: MacFailed = Object.freeze({ ok: false, reason: 'unknown_key' })
const EXPIRED: Failed = Object.freeze({ ok: false, reason: 'expired_absolute' })

/** Checks a custom id (from `genid`) can be carried in a token. Returns a reason, or null if fine. */
export function checkCustomId(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) return 'must return a non-empty string'
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES)
    return `must return at most ${MAX_ID_BYTES} bytes`
  if (LONE_SURROGATE.test(id)) return 'must return well-formed UTF-16 (no lone surrogates)'
  return null
}
