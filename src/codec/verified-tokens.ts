import { sessionRef } from './ids.js'
import type { KeyEntry } from './keyring.js'
import { ownCopy } from './own-copy.js'
import { checkTimes, verifyMac, type VerifyFailure } from './token.js'

/** A token that verified: its id, the id's store reference, its creation time and its key. */
export interface VerifiedToken {
  readonly ok: true
  readonly id: string
  readonly ref: string
  readonly createdAt: number
  readonly key: KeyEntry
}

export type VerifiedResult = VerifiedToken | { readonly ok: false; readonly reason: VerifyFailure }

/** `verifyToken` with the tokens whose MAC it checked kept; see `createTokenVerifier`. */
export type TokenVerifier = (value: string, now: number) => VerifiedResult

/** Tokens kept by default: about 1.5 MB at most. */
export const KEPT_TOKENS = 4096

/** Forged tokens kept by default (at most 256 characters each: about 0.5 MB). */
export const KEPT_FORGED = 1024

/**
 * `verifyToken` for one keyring, keeping by their exact text the tokens whose MAC it checked, so
 * the cookie a browser sends again costs a map lookup instead of an HMAC and a SHA-256 (the id's
 * store reference). A token whose MAC is right is kept with what it verified to, expired or not:
 * on every use its times are checked against `now` exactly as `verifyToken` checks them, so a kept
 * token expires as any other and a client that keeps sending an expired cookie costs no HMAC. A
 * token whose MAC is wrong (`forged`) is kept apart, so one sent again is refused without an HMAC.
 * A manager's keys never change, so what the MAC said of a text stays true. Bounded: past `max`
 * (or `maxForged`) tokens the oldest kept leaves first, so a flood of tokens costs speed, never
 * memory. A lookup compares whole strings: it tells nothing about a MAC, only whether that exact
 * token (which the caller must already hold) was seen.
 */
export function createTokenVerifier(
  keys: ReadonlyMap<string, KeyEntry>,
  lifetimeMs: (key: KeyEntry) => number,
  max = KEPT_TOKENS,
  maxForged = KEPT_FORGED,
): TokenVerifier {
  const kept = new Map<string, VerifiedToken>()
  const forged = new Set<string>()
  return function verify(value, now) {
    const hit = kept.get(value)
    if (hit !== undefined) return checkTimes(hit.createdAt, now, lifetimeMs(hit.key)) ?? hit
    if (forged.has(value)) return FORGED
    const result = verifyMac(value, keys)
    if (!result.ok) {
      if (result.reason === 'forged') {
        if (forged.size >= maxForged) forged.delete(forged.values().next().value!)
        forged.add(ownCopy(value))
      }
      return result
    }
    // Copies: the token and its id are slices of the Cookie header, which they would keep alive.
    const verified: VerifiedToken = {
      ...result,
      id: ownCopy(result.id),
      ref: sessionRef(result.id),
    }
    if (kept.size >= max) kept.delete(kept.keys().next().value!)
    kept.set(ownCopy(value), verified)
    return checkTimes(verified.createdAt, now, lifetimeMs(verified.key)) ?? verified
  }
}

const FORGED = Object.freeze({ ok: false, reason: 'forged' } as const)
