/** Security event names (a contract: DESIGN.md "Security events"). */
export type TetherEventType =
  | 'session.created'
  | 'session.login'
  | 'session.regenerated'
  | 'session.destroyed'
  | 'session.revoked'
  /** `revokeAllSessions()` was called: every session created before now ends. */
  | 'session.revoked_all'
  | 'session.expired_idle'
  | 'session.expired_absolute'
  | 'session.binding_mismatch'
  | 'session.unknown'
  /** Sealed mode: a session too large for its cookie was refused at commit (`TETHER_COOKIE_TOO_LARGE`). */
  | 'session.too_large'
  | 'token.malformed'
  | 'token.forged'
  | 'token.unknown_key'
  | 'csrf.rejected'
  | 'ratelimit.blocked'
  | 'store.error'

/**
 * One security event. Never holds a token, a session id or a secret: `ref` is a short
 * non-reversible reference (a hash of the id), the same one `listUserSessions` returns.
 */
export interface TetherEvent {
  /** Epoch ms. */
  time: number
  type: TetherEventType
  /** Why, where the type alone does not say (e.g. `cap`, `user`, `reuse` for `session.revoked`). */
  reason?: string
  ref?: string
  userId?: string
  ip?: string
  userAgent?: string
  path?: string
}

/** Receives every event. Exceptions it throws are reported as a process warning, never to the request. */
export type EventListener = (event: TetherEvent) => void

/** The request facts an event carries. */
export interface EventContext {
  ip?: string | undefined
  userAgent?: string | undefined
  path?: string | undefined
}
