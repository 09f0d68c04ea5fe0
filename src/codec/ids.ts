import { createHmac, hash } from 'node:crypto'
import { randomPool } from './random-pool.js'

/** 32 bytes (256 bits) per id. */
const ids = randomPool(32)

/** A new session id: 32 bytes (256 bits) from the CSPRNG, base64url. */
export function generateSessionId(): string {
  return ids.base64url()
}

/**
 * The store key of a session id, which is also its public reference: a truncated SHA-256 of the
 * id (132 bits). Non-reversible, so a store dump, a log line or a sessions page holds no usable
 * cookie; it is not keyed by a secret, so rotating the secret keeps every session reachable.
 */
export function sessionRef(id: string): string {
  // One-shot: no Hash object per id.
  return hash('sha256', REF_LABEL + id, 'base64url').slice(0, 22)
}

const REF_LABEL = 'tether-session/v1/ref\0'

const REF_PATTERN = /^[A-Za-z0-9_-]{22}$/

/** True when `value` has the shape of a session reference (cheap check before any store I/O). */
export function isSessionRef(value: unknown): value is string {
  return typeof value === 'string' && REF_PATTERN.test(value)
}

/**
 * The id a session gets when it is renewed: an HMAC of a label keyed by the current id. Only a
 * holder of the current id can compute it, and every request renewing the same session computes
 * the same one, so concurrent renewals agree on the successor without coordination.
 */
export function renewedId(id: string): string {
  return createHmac('sha256', id).update('tether-session/v1/renewal').digest('base64url')
}
