import { createHmac, hkdfSync, type KeyObject, createSecretKey } from 'node:crypto'
import { TetherError } from '../errors.js'
import { assertStrongSecret, describeType, GENERATE_SECRET_HINT } from './secret-policy.js'

/** A secret as the user configures it: one string, a list (first signs), or explicit key ids. */
export type SecretInput =
  | string
  | Uint8Array
  | readonly (string | Uint8Array)[]
  | readonly { kid: string; secret: string | Uint8Array }[]

/** Purposes get separate keys (HKDF info), so a key leaked from one use forges nothing in another. */
export type KeyPurpose = 'cookie-mac' | 'csrf' | 'seal'

/** One secret, with the keys derived from it once at startup. */
export interface KeyEntry {
  readonly kid: string
  /** The session class this key belongs to (`default` unless session classes are configured). */
  readonly sessionClass: string
  readonly macKey: KeyObject
  readonly csrfKey: KeyObject
  readonly sealKey: KeyObject
}

export interface Keyring {
  /** The key that signs new cookies: the first configured secret. */
  readonly signing: KeyEntry
  /** Every configured key, found by key id (no trying every key). */
  readonly byKid: ReadonlyMap<string, KeyEntry>
}

const SALT = 'tether-session/v1'
const KID_PATTERN = /^[A-Za-z0-9_-]{1,16}$/

function derive(secret: string | Uint8Array, purpose: KeyPurpose | 'kid', length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, purpose, length))
}

function makeEntry(secret: string | Uint8Array, kid: string, sessionClass: string): KeyEntry {
  return {
    kid,
    sessionClass,
    macKey: createSecretKey(derive(secret, 'cookie-mac')),
    csrfKey: createSecretKey(derive(secret, 'csrf')),
    sealKey: createSecretKey(derive(secret, 'seal')),
  }
}

/** A key id derived from the secret: stable across restarts, reveals nothing about the secret. */
function derivedKid(secret: string | Uint8Array, sessionClass: string): string {
  const kid = derive(secret, 'kid', 6).toString('base64url')
  // Classes get their own kid space, so one secret shared by two classes still yields two keys.
  return sessionClass === 'default'
    ? kid
    : createHmac('sha256', kid).update(sessionClass).digest('base64url').slice(0, 8)
}

/**
 * Builds a keyring from the `secret` option. Refuses weak secrets and duplicate key ids.
 * @param label option name used in error messages, e.g. `"secret"` or `"classes.admin.secret"`.
 */
export function createKeyring(
  input: unknown,
  label = '"secret"',
  sessionClass = 'default',
): Keyring {
  const list = typeof input === 'string' || input instanceof Uint8Array ? [input] : input
  if (!Array.isArray(list)) {
    throw new TetherError(
      'TETHER_INVALID_OPTION',
      `${label} is required: a string, an array of strings (the first signs, all verify), ` +
        `or an array of { kid, secret }; got ${describeType(input)}. Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
  if (list.length === 0) {
    throw new TetherError(
      'TETHER_INVALID_OPTION',
      `secret option array must contain at least one secret (${label} is []). Generate one with: ${GENERATE_SECRET_HINT}`,
    )
  }
  const byKid = new Map<string, KeyEntry>()
  const entries = (list as unknown[]).map(function toEntry(item, i) {
    const itemLabel = `${label}[${i}]`
    if (typeof item === 'object' && item !== null && !(item instanceof Uint8Array)) {
      const { kid, secret } = item as { kid?: unknown; secret?: unknown }
      if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
        throw new TetherError(
          'TETHER_INVALID_OPTION',
          `${itemLabel}.kid must be 1-16 characters of A-Z a-z 0-9 _ -; got ${JSON.stringify(kid)}`,
        )
      }
      assertStrongSecret(secret, `${itemLabel}.secret`)
      return makeEntry(secret, kid, sessionClass)
    }
    assertStrongSecret(item, itemLabel)
    return makeEntry(item, derivedKid(item, sessionClass), sessionClass)
  })
  for (const entry of entries) {
    if (byKid.has(entry.kid)) {
      throw new TetherError(
        'TETHER_INVALID_OPTION',
        `${label} lists key id "${entry.kid}" twice (the same secret, or a repeated kid); remove the duplicate`,
      )
    }
    byKid.set(entry.kid, entry)
  }
  return { signing: entries[0]!, byKid }
}

/** Merges keyrings of several session classes into one lookup table; kids must stay unique. */
export function mergeKeyrings(rings: readonly Keyring[]): ReadonlyMap<string, KeyEntry> {
  const all = new Map<string, KeyEntry>()
  for (const ring of rings) {
    for (const [kid, entry] of ring.byKid) {
      const clash = all.get(kid)
      if (clash) {
        throw new TetherError(
          'TETHER_INVALID_OPTION',
          `key id "${kid}" is used by session classes "${clash.sessionClass}" and "${entry.sessionClass}"; ` +
            'give each class its own secret',
        )
      }
      all.set(kid, entry)
    }
  }
  return all
}
