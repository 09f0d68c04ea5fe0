import { sessionRef } from './ids.js'
import type { KeyEntry } from './keyring.js'
import { checkTimes, verifyToken, type VerifyFailure } from './token.js'

/** A token that verified: its id, the id's store reference, its creation time and its key. */
export interface VerifiedToken {
  readonly ok: true
  readonly id: string
  readonly ref: string
  readonly createdAt: number
  readonly key: KeyEntry
}

export type VerifiedResult = VerifiedToken | { readonly ok: false; readonly reason: VerifyFailure }

/** `verifyToken` with the tokens that verified kept; see `createTokenVerifier`. */
export type TokenVerifier = (value: string, now: number) => VerifiedResult

/** Tokens kept by default: about 1.5 MB at most. */
export const KEPT_TOKENS = 4096

/**
 * `verifyToken` for one keyring, keeping the tokens that verified by their exact text, so the
 * cookie a browser sends again on its next request costs a map lookup instead of an HMAC and a
 * SHA-256 (the id's store reference). Only a token that passed `verifyToken` is kept, with what
 * it verified to; on a hit its times are checked against `now` exactly as `verifyToken` checks
 * them, so a kept token expires as any other. A manager's keys never change, so a kept verdict
 * stays true. Bounded: past `max` tokens the oldest kept leaves first, so a flood of valid tokens
 * costs speed, never memory. A lookup compares whole strings: it tells nothing about a MAC, only
 * whether that exact token (which the caller must already hold) was seen.
 */
export function createTokenVerifier(
  keys: ReadonlyMap<string, KeyEntry>,
  lifetimeMs: (key: KeyEntry) => number,
  max = KEPT_TOKENS,
): TokenVerifier {
  const kept = new Map<string, VerifiedToken>()
  return function verify(value, now) {
    const hit = kept.get(value)
    if (hit !== undefined) {
      const failure = checkTimes(hit.createdAt, now, lifetimeMs(hit.key))
      if (failure === null) return hit
      kept.delete(value)
      return failure
    }
    const result = verifyToken(value, keys, now, lifetimeMs)
    if (!result.ok) return result
    const verified: VerifiedToken = { ...result, ref: sessionRef(result.id) }
    if (kept.size >= max) kept.delete(kept.keys().next().value!)
    kept.set(value, verified)
    return verified
  }
}
