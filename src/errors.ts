/**
 * Every error Tether throws is a `TetherError` with a stable `code`.
 * Branch on `code`, never on `message`: messages may be reworded, codes keep their meaning.
 */
export type TetherErrorCode =
  /** An option is invalid. Thrown while the middleware or manager is built, never per request. */
  | 'TETHER_INVALID_OPTION'
  /** A secret is too short or a published placeholder. Thrown at construction. */
  | 'TETHER_WEAK_SECRET'
  /** The session store failed or timed out. Adapters answer 503 with `Retry-After`. */
  | 'TETHER_STORE_UNAVAILABLE'
  /** A cross-site or token-less unsafe request was refused. Adapters answer 403. */
  | 'TETHER_CSRF_REJECTED'
  /** The session no longer exists in the store (expired, revoked or destroyed meanwhile). */
  | 'TETHER_SESSION_NOT_FOUND'
  /** `session.update(fn)` kept losing the version race and gave up. */
  | 'TETHER_VERSION_CONFLICT'
  /** The serialised session is larger than `maxSessionBytes`. */
  | 'TETHER_SESSION_TOO_LARGE'
  /**
   * Session data JSON would silently lose or cannot encode (BigInt, a cycle, a function, a symbol,
   * a Map or another non-plain object, NaN), or a reserved top-level key; the message names the
   * key path. Nothing was written.
   */
  | 'TETHER_INVALID_SESSION_DATA'
  /** Too many invalid session cookies from this client address. Adapters answer 429 with `Retry-After`. */
  | 'TETHER_RATE_LIMITED'
  /** The configured store cannot do this (e.g. a per-user index on a wrapped express-session store). */
  | 'TETHER_NOT_SUPPORTED'
  /**
   * A login was refused: the user already holds `maxSessionsPerUser` live sessions and
   * `onSessionLimit` is `'refuse'`. Adapters answer 409: the state of the user's sessions, not the
   * request or its credentials, stands in the way, and ending one of them resolves it.
   */
  | 'TETHER_SESSION_LIMIT'
  /** A new session's id is already held by a live session: a custom `genid` returned an id in use. */
  | 'TETHER_SESSION_ID_IN_USE'
  /**
   * Sealed mode: the sealed session would not fit in a cookie (4,096 bytes of name=value, what
   * every browser keeps). Refused at commit; no cookie was sent. The message gives the size and
   * how much data fits.
   */
  | 'TETHER_COOKIE_TOO_LARGE'

const STATUS: { readonly [C in TetherErrorCode]: number } = {
  TETHER_INVALID_OPTION: 500,
  TETHER_WEAK_SECRET: 500,
  TETHER_STORE_UNAVAILABLE: 503,
  TETHER_CSRF_REJECTED: 403,
  TETHER_SESSION_NOT_FOUND: 500,
  TETHER_VERSION_CONFLICT: 409,
  TETHER_SESSION_TOO_LARGE: 500,
  TETHER_INVALID_SESSION_DATA: 500,
  TETHER_NOT_SUPPORTED: 500,
  TETHER_RATE_LIMITED: 429,
  TETHER_SESSION_LIMIT: 409,
  TETHER_SESSION_ID_IN_USE: 500,
  TETHER_COOKIE_TOO_LARGE: 500,
}

/** The one error class of Tether. `status` is the HTTP status an adapter answers with. */
export class TetherError extends Error {
  readonly code: TetherErrorCode
  readonly status: number
  /** Seconds a client should wait before retrying, for `TETHER_STORE_UNAVAILABLE`. */
  readonly retryAfter?: number
  /**
   * For `TETHER_INVALID_OPTION`, when one option is at fault: its path as written in the options
   * (`"renewAfter"`, `"classes.admin.idleTimeout"`), so an application can name its own setting.
   */
  readonly option?: string

  constructor(
    code: TetherErrorCode,
    message: string,
    opts: { status?: number; cause?: unknown; retryAfter?: number; option?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'TetherError'
    this.code = code
    this.status = opts.status ?? STATUS[code]
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter
    if (opts.option !== undefined) this.option = opts.option
  }

  /** Response headers for this error (Express's final handler applies `err.headers`). */
  get headers(): Record<string, string> | undefined {
    return this.retryAfter === undefined ? undefined : { 'Retry-After': String(this.retryAfter) }
  }
}

/**
 * A refusal of a client's request (429 throttled, 403 CSRF): a `TetherError` without a stack
 * trace. The client caused it, not the code, so a stack would say nothing, and an attacker
 * sending thousands of bad tokens would otherwise make the server capture one per request.
 */
export function refusal(
  code: TetherErrorCode,
  message: string,
  opts: { retryAfter?: number } = {},
): TetherError {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new TetherError(code, message, opts)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** Type guard that survives duplicate module instances (checks the shape, not the prototype). */
export function isTetherError(err: unknown): err is TetherError {
  return (
    err instanceof TetherError ||
    (err instanceof Error && err.name === 'TetherError' && 'code' in err)
  )
}

/** Shorthand for the most common throw: a bad option (named by `option`) at construction time. */
export function invalidOption(message: string, option?: string): TetherError {
  return new TetherError('TETHER_INVALID_OPTION', message, option === undefined ? {} : { option })
}

/** The refusal of a create past the per-user cap under `onLimit: 'refuse'` (every store throws it). */
export function sessionLimitReached(maxPerUser: number): TetherError {
  return new TetherError(
    'TETHER_SESSION_LIMIT',
    `login refused: the user already holds ${maxPerUser} live sessions, the most ` +
      `"maxSessionsPerUser" allows, and "onSessionLimit" is "refuse"; end one of them ` +
      `(revokeSession, logout) or wait until one expires`,
  )
}
