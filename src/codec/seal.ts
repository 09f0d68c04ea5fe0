import { createCipheriv, createDecipheriv } from 'node:crypto'
import { isCanonicalBase64url } from './base64url.js'
import type { KeyEntry } from './keyring.js'
import { randomPool } from './random-pool.js'
import type { VerifyFailure } from './token.js'

/**
 * Sealed token layout (version 1), for `store: 'sealed'`:
 *
 *   s1.<kid>.<base64url(iv ‖ ciphertext ‖ tag)>
 *
 * AES-256-GCM under the `seal` key of <kid> (HKDF, its own purpose: apart from the MAC and CSRF
 * keys), a random 96-bit IV per seal, a 128-bit tag, and `s1.<kid>` as additional authenticated
 * data, so neither the version nor the key id can be swapped. What is sealed is opaque here
 * (core/sealed/payload.ts decides).
 */
export const SEAL_VERSION = 's1'

/**
 * Longest sealed token looked at: a browser keeps at most 4,096 bytes of a cookie's name=value, so
 * no token Tether issues is longer. Anything longer is rejected before it is parsed or decrypted.
 */
export const MAX_SEALED_LENGTH = 4096

const IV_BYTES = 12
const TAG_BYTES = 16
/** Fresh random IVs: GCM needs a new one for every seal, never reused under one key. */
const ivs = randomPool(IV_BYTES)
const KID = /^[A-Za-z0-9_-]{1,16}$/
const BLOB = /^[A-Za-z0-9_-]+$/
/** iv + tag + at least one byte of payload, in base64url characters. */
const MIN_BLOB_CHARS = Math.ceil(((IV_BYTES + TAG_BYTES + 1) * 4) / 3)

export type OpenResult =
  | { readonly ok: true; readonly key: KeyEntry; readonly payload: Buffer }
  | { readonly ok: false; readonly reason: Exclude<VerifyFailure, 'expired_absolute'> }

/** Seals `payload` under `key`'s seal key. */
export function seal(key: KeyEntry, payload: string): string {
  const header = `${SEAL_VERSION}.${key.kid}`
  const iv = ivs.bytes()
  const cipher = createCipheriv('aes-256-gcm', key.sealKey, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(header, 'latin1'))
  const ciphertext = cipher.update(payload, 'utf8')
  // GCM is a stream mode: final() adds no bytes, so iv ‖ ciphertext ‖ tag is all there is.
  cipher.final()
  const body = Buffer.concat(
    [iv, ciphertext, cipher.getAuthTag()],
    IV_BYTES + ciphertext.length + TAG_BYTES,
  )
  return `${header}.${body.toString('base64url')}`
}

/**
 * Opens a sealed token. Never throws and never does I/O: every failure is a typed result, with the
 * same reasons as a signed token's (`malformed`, `unknown_key`, `forged`).
 */
export function openSeal(value: string, keys: ReadonlyMap<string, KeyEntry>): OpenResult {
  // Length cap before any parsing or decryption: a 10 KB header costs one comparison.
  if (typeof value !== 'string' || value.length > MAX_SEALED_LENGTH) return MALFORMED
  if (!value.startsWith(`${SEAL_VERSION}.`)) return MALFORMED
  const dot = value.indexOf('.', SEAL_VERSION.length + 1)
  if (dot < 0) return MALFORMED
  const kid = value.slice(SEAL_VERSION.length + 1, dot)
  const blob = value.slice(dot + 1)
  if (!KID.test(kid) || blob.length < MIN_BLOB_CHARS || !BLOB.test(blob)) return MALFORMED
  // One accepted spelling per token: non-canonical base64url (spare trailing bits) is refused.
  if (!isCanonicalBase64url(blob)) return MALFORMED
  const body = Buffer.from(blob, 'base64url')
  const key = keys.get(kid)
  if (key === undefined) return UNKNOWN_KEY
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.sealKey, body.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    })
    decipher.setAAD(Buffer.from(value.slice(0, dot), 'latin1'))
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
    const payload = decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES))
    // Checks the tag (throws when it does not match); GCM's final() adds no bytes.
    decipher.final()
    return { ok: true, key, payload }
  } catch {
    // The tag does not match: another key, or any bit of the token changed.
    return FORGED
  }
}

/** Length of the sealed token of a `payloadBytes`-byte payload under key id `kid`. */
export function sealedLength(kid: string, payloadBytes: number): number {
  const header = SEAL_VERSION.length + 1 + kid.length + 1
  return header + Math.ceil(((IV_BYTES + payloadBytes + TAG_BYTES) * 4) / 3)
}

/** The largest payload, in bytes, whose sealed token under `kid` is at most `maxChars` long. */
export function maxPayloadBytes(kid: string, maxChars: number): number {
  const header = SEAL_VERSION.length + 1 + kid.length + 1
  return Math.floor(((maxChars - header) * 3) / 4) - IV_BYTES - TAG_BYTES
}

const MALFORMED: OpenResult = Object.freeze({ ok: false, reason: 'malformed' })
const FORGED: OpenResult = Object.freeze({ ok: false, reason: 'forged' })
const UNKNOWN_KEY: OpenResult = Object.freeze({ ok: false, reason: 'unknown_key' })
