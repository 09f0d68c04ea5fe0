/** Small helpers shared by the stores in this folder; not exported from the package. */

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
