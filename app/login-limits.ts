/**
 * Failed password attempts, counted per account (from one address) and per address, wherever a
 * password is typed: /login, and the current password on /password and /reauth. One count for
 * all three, so a stolen session cannot guess its user's password faster than the login form can.
 * Slows guessing without locking the real user out from everywhere else.
 */
import type { Request } from 'express'
import { unmapIPv4, type TetherEvent } from 'tether-session'
import { HttpError } from './http.js'
import { logAuthFailure, requestEvent, type Logger } from './log.js'
import { formatDuration } from './pages/format.js'
import { createRateLimiter, type RateLimiter } from './rate-limit.js'

const WINDOW_MS = 15 * 60_000

/** Where the password was typed: the event's reason and the wording of the 429. */
export type PasswordForm = 'login' | 'password' | 'reauth'

/** The shared counters of {@link createLoginLimits}. */
export interface LoginLimits {
  /** Throws 429 (and logs `ratelimit.blocked`) while this account or address is blocked. */
  check(req: Request, username: string, form: PasswordForm): void
  /**
   * Counts a wrong password for this account and address, and logs it: one line naming the user
   * (`userId` when the account is known), never the password.
   */
  failed(req: Request, username: string, form: PasswordForm, userId?: string): void
  /** Forgets this account's failures from this address (the right password was given). */
  succeeded(req: Request, username: string): void
}

/** The app's one set of counters; `onEvent` hears `ratelimit.blocked`, `logger` each failure. */
export function createLoginLimits(
  onEvent: (event: TetherEvent) => void,
  logger: Logger,
): LoginLimits {
  const perAccount = createRateLimiter({ maxFailures: 5, windowMs: WINDOW_MS })
  const perAddress = createRateLimiter({ maxFailures: 50, windowMs: WINDOW_MS })
  // An IPv4 client counts once whether it arrives as 192.0.2.1 or as ::ffff:192.0.2.1.
  const address = (req: Request) => String(unmapIPv4(req.ip))
  const accountKey = (req: Request, username: string) =>
    `${address(req)}\n${username.toLowerCase()}`
  const pairs = (req: Request, username: string): [RateLimiter, string][] => [
    [perAccount, accountKey(req, username)],
    [perAddress, address(req)],
  ]
  return {
    check(req, username, form) {
      const waitMs = Math.max(...pairs(req, username).map(([l, key]) => l.retryAfterMs(key)))
      if (waitMs <= 0) return
      onEvent(requestEvent(req, 'ratelimit.blocked', { reason: form }))
      const what = form === 'login' ? 'failed logins' : 'wrong passwords'
      const message = `Too many ${what}. Please try again in ${formatDuration(waitMs)}.`
      throw new HttpError(429, 'too_many_attempts', message, Math.ceil(waitMs / 1000))
    },
    failed(req, username, form, userId) {
      for (const [limiter, key] of pairs(req, username)) limiter.fail(key)
      logAuthFailure(logger, req, form, { username, userId })
    },
    succeeded(req, username) {
      perAccount.reset(accountKey(req, username))
    },
  }
}
