/**
 * Security logging: every Tether event becomes one JSON line (pino), with the event's own fields
 * only. Events never carry a token, a session id or a secret (DESIGN.md "Security events"); `ref`
 * is a non-reversible reference, the one the sessions page shows.
 */
import type { Request } from 'express'
import { pino, type DestinationStream, type Level, type Logger } from 'pino'
import type { TetherEvent, TetherEventType } from 'tether-session'

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
      return 'warn'
    case 'session.revoked':
      return event.reason === 'reuse' ? 'warn' : 'info'
    case 'session.created':
    case 'session.login':
    case 'session.regenerated':
    case 'session.destroyed':
    case 'session.expired_idle':
    case 'session.expired_absolute':
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

/** An event the app itself raises (a CSRF refusal, a blocked login), shaped like Tether's. */
export function requestEvent(
  req: Request,
  type: TetherEventType,
  extra: { reason?: string; userId?: string } = {},
): TetherEvent {
  const event: TetherEvent = { time: Date.now(), type, path: req.path, ...extra }
  if (req.ip !== undefined) event.ip = req.ip
  const ua = req.get('user-agent')
  if (ua !== undefined) event.userAgent = ua
  return event
}
