import { randomFillSync } from 'node:crypto'

/** Draws per call to the CSPRNG: one call costs about as much as the base64 of a dozen ids. */
const DRAWS_PER_FILL = 64

/** Random bytes handed out `size` at a time. */
export interface RandomPool {
  /** The next `size` random bytes, as base64url. */
  base64url(): string
  /** The next `size` random bytes, in a Buffer of their own. */
  bytes(): Buffer
}

/**
 * Random bytes from the CSPRNG, filled 64 draws at a time, as Node's randomUUID batches its own:
 * a small `randomBytes` call costs about 5 µs (a lock and a getpid in OpenSSL), a draw from the
 * pool a twentieth of that. Each draw is used once; its bytes are zeroed as they leave the pool.
 */
export function randomPool(size: number): RandomPool {
  const pool = Buffer.alloc(size * DRAWS_PER_FILL)
  let next = DRAWS_PER_FILL

  function take<T>(read: (start: number, end: number) => T): T {
    if (next === DRAWS_PER_FILL) {
      randomFillSync(pool)
      next = 0
    }
    const start = size * next++
    const out = read(start, start + size)
    pool.fill(0, start, start + size)
    return out
  }

  return {
    base64url: () => take((start, end) => pool.toString('base64url', start, end)),
    bytes: () => take((start, end) => Buffer.from(pool.subarray(start, end))),
  }
}
