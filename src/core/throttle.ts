import type { Clock } from '../clock.js'
import { isIPv6 } from 'node:net'
import { ipPrefix } from './ip-prefix.js'
import { unmapIPv4 } from './unmap-ipv4.js'

/** Options of the invalid-token throttle (`throttle` option). */
export interface ThrottleOptions {
  /** Invalid session cookies accepted per client address and window before 429. @default 20 */
  limit?: number
  /** Length of the counting window. @default '1m' */
  window?: number | string
  /** Most client addresses tracked at once; the least recently seen is forgotten first. @default 10000 */
  maxTracked?: number
}

export interface ThrottleVerdict {
  /** Refuse this request with 429. */
  blocked: boolean
  /** Seconds until the window ends, for `Retry-After`. */
  retryAfterS: number
  /** First refused request of this burst: the one that emits `ratelimit.blocked`. */
  firstOfBurst: boolean
}

interface Counter {
  windowStart: number
  count: number
}

/**
 * Counts requests that carry an invalid session cookie (malformed, forged, unknown key), per
 * client address, in memory, bounded. Requests with a valid cookie or none never reach it, so
 * users behind one NAT address with an attacker keep working. No store I/O.
 */
export function createThrottle(limit: number, windowMs: number, maxTracked: number, clock: Clock) {
  const counters = new Map<string, Counter>()

  return function hit(address: string): ThrottleVerdict {
    const now = clock.now()
    let counter = counters.get(address)
    if (counter === undefined || now - counter.windowStart >= windowMs) {
      counter = { windowStart: now, count: 0 }
    }
    counters.delete(address) // re-insert: Map order is the LRU order
    counters.set(address, counter)
    if (counters.size > maxTracked) counters.delete(counters.keys().next().value!)
    counter.count++
    const retryAfterS = Math.max(1, Math.ceil((counter.windowStart + windowMs - now) / 1000))
    return {
      blocked: counter.count > limit,
      retryAfterS,
      firstOfBurst: counter.count === limit + 1,
    }
  }
}

export type Throttle = ReturnType<typeof createThrottle>

/**
 * What the throttle counts a client address by: an IPv4 address (mapped ones unwrapped) by itself,
 * IPv6 by its /48, so rotating addresses inside one allocation does not escape the count.
 */
export function throttleKey(ip: string): string {
  const address = unmapIPv4(ip)
  return isIPv6(address) ? (ipPrefix(address) ?? address) : address
}
