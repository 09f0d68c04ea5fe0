import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { KeyEntry } from '../codec/keyring.js'

/**
 * CSRF tokens, two kinds (layouts are internal; only `csrfToken()` makes them):
 *
 *   session token      base64url(HMAC-SHA256(csrfKey, 'tether-csrf/v1\0' + session anchor))
 *   pre-session token  'p.' + nonce + '.' + base64url(HMAC-SHA256(csrfKey, 'tether-csrf/pre\0' + nonce))
 *
 * csrfKey is derived (HKDF, purpose `csrf`) from the secret of the session's class, so a CSRF
 * token forges no cookie and no other class's token. The anchor is a value unique to one session
 * (the Express adapter passes the reference of the id the session was created or logged in with):
 * login, logout and regenerate change it, so a token from before them no longer verifies, while a
 * renewal keeps it. Its secrecy is not needed: without csrfKey no token can be made for it. The
 * nonce of a pre-session token (16 random bytes) lives in an HttpOnly cookie, which binds the token
 * to one browser before it has a session (login forms).
 */
export interface CsrfTokens {
  /** The token of a session, by its anchor (a value unique to the session) and class. */
  sessionToken(anchor: string, sessionClass: string): string
  /** Constant-time check of a presented session token. */
  verifySessionToken(token: string, anchor: string, sessionClass: string): boolean
  /** A new pre-session nonce (16 random bytes, base64url) for the nonce cookie. */
  newNonce(): string
  /** The pre-session token for a nonce. */
  preSessionToken(nonce: string): string
  /** Constant-time check of a presented pre-session token against the request's nonce cookie. */
  verifyPreSessionToken(token: string, nonce: string | undefined): boolean
}

/** The keys the tokens need: `createSessionManager(...).options` has them. */
export interface CsrfKeySource {
  readonly keys: ReadonlyMap<string, KeyEntry>
  readonly classes: ReadonlyMap<string, { readonly signing: KeyEntry }>
}

const SESSION_CONTEXT = 'tether-csrf/v1\0'
const PRE_SESSION_CONTEXT = 'tether-csrf/pre\0'
const MAC_CHARS = 43 // base64url of 32 bytes, no padding
const NONCE_BYTES = 16
const NONCE_CHARS = 22
const PRE_PREFIX = 'p.'
const PRE_TOKEN_CHARS = PRE_PREFIX.length + NONCE_CHARS + 1 + MAC_CHARS
const BASE64URL = /^[A-Za-z0-9_-]+$/

function macOf(key: KeyEntry, context: string, value: string): string {
  return createHmac('sha256', key.csrfKey).update(context).update(value).digest('base64url')
}

/** Equal-length ASCII strings compared in constant time (compared as text: no base64 slack bits). */
function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

function isMac(value: string): boolean {
  return value.length === MAC_CHARS && BASE64URL.test(value)
}

/** True when `value` has the shape of a pre-session nonce. */
export function isNonce(value: unknown): value is string {
  return typeof value === 'string' && value.length === NONCE_CHARS && BASE64URL.test(value)
}

/**
 * Each class's keys, the signing one first: tokens are made with it, and checked against the
 * class's older keys too, so rotating the secret does not break the forms already open.
 */
function keysByClass(source: CsrfKeySource): ReadonlyMap<string, readonly KeyEntry[]> {
  const out = new Map<string, KeyEntry[]>()
  for (const [name, cls] of source.classes) out.set(name, [cls.signing])
  for (const key of source.keys.values()) {
    const list = out.get(key.sessionClass)
    if (list !== undefined && !list.includes(key)) list.push(key)
  }
  return out
}

/** Builds the token maker and checker once, from the manager's keys. */
export function createCsrfTokens(source: CsrfKeySource): CsrfTokens {
  const byClass = keysByClass(source)
  const found = byClass.get('default')
  if (found === undefined) throw new TypeError('createCsrfTokens: no "default" session class')
  const defaultKeys: readonly KeyEntry[] = found

  function keysOf(sessionClass: string): readonly KeyEntry[] {
    return byClass.get(sessionClass) ?? defaultKeys
  }

  return {
    sessionToken(anchor, sessionClass) {
      return macOf(keysOf(sessionClass)[0]!, SESSION_CONTEXT, anchor)
    },
    verifySessionToken(token, anchor, sessionClass) {
      // Shape first: a malformed token costs no HMAC.
      if (typeof token !== 'string' || !isMac(token)) return false
      return keysOf(sessionClass).some(function matches(key) {
        return sameText(token, macOf(key, SESSION_CONTEXT, anchor))
      })
    },
    newNonce() {
      return randomBytes(NONCE_BYTES).toString('base64url')
    },
    preSessionToken(nonce) {
      return `${PRE_PREFIX}${nonce}.${macOf(defaultKeys[0]!, PRE_SESSION_CONTEXT, nonce)}`
    },
    verifyPreSessionToken(token, nonce) {
      if (!isNonce(nonce) || typeof token !== 'string' || token.length !== PRE_TOKEN_CHARS)
        return false
      if (!token.startsWith(PRE_PREFIX) || token[PRE_PREFIX.length + NONCE_CHARS] !== '.')
        return false
      const tokenNonce = token.slice(PRE_PREFIX.length, PRE_PREFIX.length + NONCE_CHARS)
      const mac = token.slice(-MAC_CHARS)
      if (!isNonce(tokenNonce) || !isMac(mac) || !sameText(tokenNonce, nonce)) return false
      return defaultKeys.some(function matches(key) {
        return sameText(mac, macOf(key, PRE_SESSION_CONTEXT, nonce))
      })
    },
  }
}
