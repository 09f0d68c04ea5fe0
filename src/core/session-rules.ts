import type { SessionState } from './manager-types.js'

/**
 * Milliseconds since the user last proved who they are (login or re-authentication), or null:
 * anonymous, or used from another context under `binding: 'step-up'` until re-authenticated.
 */
export function authAge(session: SessionState, now: number): number | null {
  const authAt = session.record.authAt
  if (authAt === undefined || session.stepUpRequired === true) return null
  return now - authAt
}

/**
 * What a session's CSRF token is tied to: the session's origin reference, which login, logout and
 * regenerate change and a renewal keeps (forms open across a renewal still post).
 */
export function csrfAnchor(session: SessionState): string {
  return session.record.originRef ?? session.id
}
