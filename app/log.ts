/**
 * Security logging: every Tether event becomes one JSON line (pino), with the event's own fields
 * only. Events never carry a token, a session id or a secret (DESIGN.md "Security events"); `ref`
 * is a non-reversible reference, the one the sessions page shows.
 */
import type { Request } from 'express'
import { pino, type DestinationStream, type Level, type Logger } from 'pino'
import { unmapIPv4, type TetherEvent, type TetherEventType } from 'tether-session'

export type { Logger } from 'pino'

/** The app's logger: JSON lines on stdout, or on `destination` (tests). */
export function createLogger(destination?: DestinationStream): Logger {
  const options = { base: { app: 'tether-reference-app' } }
  return destination === undefined ? pino(options) : pino(options, destination)
}

/** Events that suggest an attack or an outage are warnings; the ordinary life of a session is info. */
function levelOf(event: TetherEvent): Level {
  const type: TetherEventType = event.type
  switch (type) {
    case 'token.forged':
    case 'token.unknown_key':
    case 'session.binding_mismatch':
    case 'csrf.rejected':
    case 'ratelimit.blocked':
    case 'store.error':
    case 'session.revoked_all':
    case 'session.too_large':
      return 'warn'
    case 'session.revoked':
      return event.reason === 'reuse' ? 'warn' : 'info'
    case 'session.created':
    case 'session.login':
    case 'session.regenerated':
    case 'session.destroyed':
    case 'session.expired_idle':
    case 'session.expired_absolute':
    case 'session.unknown':
    case 'token.malformed':
      return 'info'
  }
}

/** The `onEvent` listener: one line per event, its type as the message. */
export function eventLogger(logger: Logger): (event: TetherEvent) => void {
  return function logEvent(event) {
    const { time, type, ...fields } = event
    logger[levelOf(event)]({ event: type, eventTime: time, ...fields }, type)
  }
}

/**
 * The line of one failed authentication (ASVS 16.3.1): where the password was typed (`reason`:
 * login, password, reauth), the user as typed and, when known, their id; never the password.
 */
export function logAuthFailure(
  logger: Logger,
  req: Request,
  form: string,
  user: { username: string; userId?: string | undefined },
): void {
  const line = { event: 'auth.failed', eventTime: Date.now(), reason: form, ...requestFields(req) }
  const named = { ...line, username: user.username }
  logger.warn(user.userId === undefined ? named : { ...named, userId: user.userId }, 'auth.failed')
}

/** What a log line tells of the request: path, client address (IPv4 unmapped), user agent. */
function requestFields(req: Request): Pick<TetherEvent, 'path' | 'ip' | 'userAgent'> {
  const fields: Pick<TetherEvent, 'path' | 'ip' | 'userAgent'> = { path: req.path }
  if (req.ip !== undefined) fields.ip = unmapIPv4(req.ip)
  const ua = req.get('user-agent')
  if (ua !== undefined) fields.userAgent = ua
  return fields
}

/** An event the app itself raises (a CSRF refusal, a blocked login), shaped like Tether's. */
export function requestEvent(
  req: Request,
  type: TetherEventType,
  extra: { reason?: string; userId?: string } = {},
): TetherEvent {
  return { time: Date.now(), type, ...requestFields(req), ...extra }
}
