import type { KeyEntry } from '../../src/codec/keyring.js'

/**
 * Counts the lookups in `keys` (it is changed in place): a signed token's verification and a
 * sealed token's decryption each look their key up once, so the count tells which were done.
 */
export function countKeyLookups(keys: Map<string, KeyEntry>): () => number {
  let lookups = 0
  const get = keys.get.bind(keys)
  keys.get = (kid: string): KeyEntry | undefined => {
    lookups++
    return get(kid)
  }
  return () => lookups
}
