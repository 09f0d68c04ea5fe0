/**
 * Start-up refusals that come from below the configuration (the session middleware's options, the
 * session store), told as `ConfigError`s that name the environment variable to change, never a
 * library option the app does not expose.
 */
import { isTetherError } from 'tether-session'
import { ConfigError, type StoreKind } from './config.js'
import { ADMIN_CLASS } from './session-class.js'

/** The variable behind each tether-session option the app sets (`TetherError.option`). */
const VARIABLE_OF: Readonly<Record<string, string>> = {
  secret: 'SESSION_SECRET',
  idleTimeout: 'SESSION_IDLE_TIMEOUT',
  // The app leaves touchAfter to follow the idle timeout.
  touchAfter: 'SESSION_IDLE_TIMEOUT',
  absoluteTimeout: 'SESSION_ABSOLUTE_TIMEOUT',
  'cookie.maxAge': 'SESSION_ABSOLUTE_TIMEOUT',
  renewAfter: 'SESSION_RENEW_AFTER',
  // The app leaves renewGrace to follow renewAfter.
  renewGrace: 'SESSION_RENEW_AFTER',
  binding: 'SESSION_BINDING',
  [`classes.${ADMIN_CLASS}.secret`]: 'SESSION_ADMIN_SECRET',
  [`classes.${ADMIN_CLASS}.idleTimeout`]: 'SESSION_ADMIN_IDLE_TIMEOUT',
  [`classes.${ADMIN_CLASS}.absoluteTimeout`]: 'SESSION_ADMIN_ABSOLUTE_TIMEOUT',
}

/** The variable that says where each store is. */
const STORE_VARIABLE: Readonly<Record<StoreKind, string>> = {
  sqlite: 'DATA_DIR',
  memory: 'SESSION_STORE',
  redis: 'REDIS_URL',
  postgres: 'DATABASE_URL',
}

/** A setting the session middleware refused, as the variable that set it. */
export function settingRefused(err: unknown): unknown {
  if (!isTetherError(err)) return err
  const variable = err.option === undefined ? undefined : VARIABLE_OF[err.option]
  if (variable === undefined)
    return new ConfigError(`the session settings (SESSION_*) were refused: ${err.message}`)
  return new ConfigError(`${variable} is refused: ${err.message}`)
}

/** A store that could not be opened, with the variable that says where it is. */
export function storeRefused(kind: StoreKind, err: unknown): ConfigError {
  const reason = err instanceof Error ? err.message : String(err)
  return new ConfigError(
    `could not open the ${kind} session store: ${reason}; check ${STORE_VARIABLE[kind]}`,
  )
}
