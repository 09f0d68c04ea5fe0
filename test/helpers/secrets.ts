import { randomBytes } from 'node:crypto'

/** A fresh strong secret (32 random bytes, base64url). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}
