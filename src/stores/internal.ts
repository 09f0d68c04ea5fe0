/** Small helpers shared by the stores in this folder; not exported from the package. */
import { TetherError } from '../errors.js'

/**
 * What `create` rejects with when a live session holds the key: a decision, not an outage, so
 * the manager reports it as such (no `store.error`, no 503).
 */
export function keyInUse(store: string): TetherError {
  return new TetherError(
    'TETHER_SESSION_ID_IN_USE',
    `${store}.create: a live session already exists under this key`,
  )
}

/** Runs `fn` now and settles a promise with its result, so a throw becomes a rejection. */
export function settle<S, T>(fn: (this: S) => T, self: S): Promise<T> {
  return new Promise(function run(resolve) {
    resolve(fn.call(self))
  })
}

/** A value for an error message: strings quoted, objects by kind, never their contents. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
