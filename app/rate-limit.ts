/**
 * Slows password guessing: after `maxFailures` failed logins within `windowMs` for one key, further
 * attempts are refused (429) until the window ends. In memory and per process, which is enough for
 * one instance of this app; several instances would share the counts in Redis.
 */

interface Window {
  failures: number
  startedAt: number
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  maxFailures: number
  windowMs: number
  /** Most keys remembered; the oldest are forgotten first. @default 10000 */
  maxKeys?: number
  now?: () => number
}

/** Failure counting per key. */
export interface RateLimiter {
  /** Milliseconds until `key` may try again, or 0 when it may now. */
  retryAfterMs(key: string): number
  /** Counts a failed attempt. */
  fail(key: string): void
  /** Forgets `key` (after a success). */
  reset(key: string): void
}

/** A fixed-window failure counter. */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const windows = new Map<string, Window>()
  const maxKeys = opts.maxKeys ?? 10_000
  const now = opts.now ?? Date.now

  function live(key: string): Window | undefined {
    const w = windows.get(key)
    if (w !== undefined && now() - w.startedAt >= opts.windowMs) {
      windows.delete(key)
      return undefined
    }
    return w
  }

  return {
    retryAfterMs(key) {
      const w = live(key)
      if (w === undefined || w.failures < opts.maxFailures) return 0
      return w.startedAt + opts.windowMs - now()
    },
    fail(key) {
      const w = live(key)
      if (w !== undefined) {
        w.failures++
        return
      }
      windows.set(key, { failures: 1, startedAt: now() })
      if (windows.size > maxKeys) windows.delete(windows.keys().next().value!)
    },
    reset(key) {
      windows.delete(key)
    },
  }
}
