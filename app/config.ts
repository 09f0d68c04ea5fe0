/**
 * The app's configuration, read once from the environment (DESIGN.md "Reference app"): PORT,
 * SESSION_STORE, DATA_DIR, REDIS_URL, DATABASE_URL, SESSION_SECRET, SESSION_SECRET_PREVIOUS,
 * SESSION_IDLE_TIMEOUT, SESSION_ABSOLUTE_TIMEOUT, SESSION_RENEW_AFTER, SESSION_REAUTH_MAX_AGE,
 * SESSION_BINDING, SESSION_ADMIN_SECRET, SESSION_ADMIN_IDLE_TIMEOUT, SESSION_ADMIN_ABSOLUTE_TIMEOUT,
 * SESSION_MAX_PER_USER, SESSION_LIMIT_POLICY, NODE_ENV, TRUST_PROXY. Every problem is a
 * `ConfigError` naming the variable and the fix.
 */
import { ConfigError, resolveAdminSecret, resolveSecrets } from './secret.js'

export { ConfigError } from './secret.js'

/** Where sessions live. */
export type StoreKind = 'sqlite' | 'memory' | 'redis' | 'postgres'

/**
 * What a logged-in session used from another browser or network gets (tether-session's `binding`
 * option, docs/security.md "Context binding"): an event only, a password prompt before sensitive
 * routes, or the end of the session.
 */
export type BindingPolicy = 'log' | 'step-up' | 'revoke'

/**
 * What a login past SESSION_MAX_PER_USER does (tether-session's `onSessionLimit`): refused, so a
 * stolen password cannot push the owner out unseen; or the user's oldest session ends.
 */
export type SessionLimitPolicy = 'refuse' | 'evict-oldest'

/** Express's "trust proxy" setting: false, true, a hop count, or addresses/subnets. */
export type TrustProxy = boolean | number | string

/**
 * The admin session class (tether-session's `classes.admin`): its own secret, so removing
 * SESSION_ADMIN_SECRET ends every admin session and no other, and shorter timeouts.
 */
export interface AdminClassConfig {
  secret: string
  /** @default 10 minutes */
  idleTimeoutMs: number
  /** @default 1 hour */
  absoluteTimeoutMs: number
}

/** Everything the app needs to start. */
export interface AppConfig {
  /** @default 3000 */
  port: number
  /** NODE_ENV=production. */
  production: boolean
  /** @default 'sqlite' */
  store: StoreKind
  /** Holds the SQLite file and the development secret. @default './data' */
  dataDir: string
  /** @default 'redis://127.0.0.1:6379' */
  redisUrl: string
  /** @default 'postgres://postgres@127.0.0.1:5432/test' */
  databaseUrl: string
  /** Signing secrets: the first signs, all verify (rotation). */
  secrets: string[]
  /** @default 30 minutes */
  idleTimeoutMs: number
  /** @default 8 hours */
  absoluteTimeoutMs: number
  /** How often a session gets a new id (tether-session's `renewAfter`); false: never. @default 15 minutes */
  renewAfterMs: number | false
  /** How recent a login (or re-entered password) /password needs. @default 5 minutes */
  reauthMaxAgeMs: number
  /** @default 'log' */
  binding: BindingPolicy
  /** Most live sessions per user (tether-session's `maxSessionsPerUser`); null: no limit. @default 10 */
  maxSessionsPerUser: number | null
  /** @default 'refuse' */
  sessionLimitPolicy: SessionLimitPolicy
  /** Set by SESSION_ADMIN_SECRET; null: admins log in to ordinary sessions. @default null */
  adminClass: AdminClassConfig | null
  /** @default false */
  trustProxy: TrustProxy
  /** Said once at startup (e.g. the development secret in use). */
  warnings: string[]
}

type Env = Record<string, string | undefined>

const STORES: readonly StoreKind[] = ['sqlite', 'memory', 'redis', 'postgres']
const BINDINGS: readonly BindingPolicy[] = ['log', 'step-up', 'revoke']
const LIMIT_POLICIES: readonly SessionLimitPolicy[] = ['refuse', 'evict-oldest']
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Reads a duration: plain milliseconds, or a number with ms, s, m, h or d ("45s", "30m", "8h"). */
export function parseDurationEnv(name: string, value: string | undefined, fallbackMs: number) {
  if (value === undefined || value.trim() === '') return fallbackMs
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim())
  const ms = m ? Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS] : NaN
  if (!(ms >= 1) || ms > 2 ** 40) {
    throw new ConfigError(
      `${name} must be a positive number of milliseconds or like "45s", "30m", "8h"; got ${JSON.stringify(value)}`,
    )
  }
  return Math.round(ms)
}

/**
 * Reads an idle and an absolute timeout, `prefix` + IDLE_TIMEOUT / ABSOLUTE_TIMEOUT. The idle one
 * may be the longer: the absolute lifetime then decides ("1 h after login, whatever the activity").
 */
function parseTimeouts(env: Env, prefix: string, idleMs: number, absoluteMs: number) {
  const idleName = `${prefix}IDLE_TIMEOUT`
  const absoluteName = `${prefix}ABSOLUTE_TIMEOUT`
  const idleTimeoutMs = parseDurationEnv(idleName, env[idleName], idleMs)
  const absoluteTimeoutMs = parseDurationEnv(absoluteName, env[absoluteName], absoluteMs)
  return { idleTimeoutMs, absoluteTimeoutMs }
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN
  if (!(port <= 65535)) throw new ConfigError(`PORT must be 0-65535; got ${JSON.stringify(value)}`)
  return port
}

function parseStore(value: string | undefined): StoreKind {
  if (value === undefined || value === '') return 'sqlite'
  const kind = STORES.find((s) => s === value)
  if (kind === undefined) {
    throw new ConfigError(
      `SESSION_STORE must be one of ${STORES.join(', ')}; got ${JSON.stringify(value)}`,
    )
  }
  return kind
}

function parseBinding(value: string | undefined): BindingPolicy {
  if (value === undefined || value === '') return 'log'
  const policy = BINDINGS.find((b) => b === value)
  if (policy === undefined) {
    throw new ConfigError(
      `SESSION_BINDING must be one of ${BINDINGS.join(', ')}; got ${JSON.stringify(value)}`,
    )
  }
  return policy
}

/** SESSION_MAX_PER_USER: a whole number of sessions, or "off" for no limit. */
function parseMaxPerUser(value: string | undefined): number | null {
  if (value === undefined || value === '') return 10
  if (value === 'off') return null
  const n = /^\d{1,4}$/.test(value) ? Number(value) : 0
  if (n < 1) {
    throw new ConfigError(
      `SESSION_MAX_PER_USER must be a whole number from 1 to 9999, or "off"; got ${JSON.stringify(value)}`,
    )
  }
  return n
}

/** The variable `name`: one of `choices` (the first is the default when it is unset). */
function parseChoice<T extends string>(env: Env, name: string, choices: readonly T[]): T {
  const value = env[name]
  if (value === undefined || value === '') return choices[0]!
  const choice = choices.find((c) => c === value)
  if (choice !== undefined) return choice
  throw new ConfigError(
    `${name} must be one of ${choices.join(', ')}; got ${JSON.stringify(value)}`,
  )
}

/** TRUST_PROXY: "true", "false", a hop count, or what Express accepts ("loopback", "10.0.0.0/8"). */
function parseTrustProxy(value: string | undefined): TrustProxy {
  if (value === undefined || value === '' || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/**
 * TRUST_PROXY=true trusts every X-Forwarded-For entry, and Express takes the left-most one, which
 * the client writes: login limits, the invalid-cookie throttle and the logs would key off an
 * address the attacker picks. A hop count takes the entry the app's own proxy appended.
 */
function trustProxyWarning(trustProxy: TrustProxy): string | undefined {
  if (trustProxy !== true) return undefined
  return (
    'TRUST_PROXY=true lets any client choose its address (Express takes the left-most ' +
    'X-Forwarded-For entry, which the client writes), so login limits, the invalid-cookie ' +
    'throttle and the logs see whatever address an attacker sends. Set the number of proxies in ' +
    'front of the app instead (TRUST_PROXY=1 behind one reverse proxy or load balancer), or ' +
    'their addresses (TRUST_PROXY=10.0.0.0/8).'
  )
}

/** Reads and checks the whole configuration; in development may create DATA_DIR/secret. */
export function loadConfig(env: Env = process.env): AppConfig {
  const production = env['NODE_ENV'] === 'production'
  const dataDir = env['DATA_DIR'] || './data'
  const { idleTimeoutMs, absoluteTimeoutMs } = parseTimeouts(env, 'SESSION_', 1_800_000, 28_800_000)
  // Parsed even without SESSION_ADMIN_SECRET: a typo should stop startup, not wait for the secret.
  const adminTimeouts = parseTimeouts(env, 'SESSION_ADMIN_', 600_000, 3_600_000)
  const reauthMaxAgeMs = parseDurationEnv(
    'SESSION_REAUTH_MAX_AGE',
    env['SESSION_REAUTH_MAX_AGE'],
    300_000,
  )
  const binding = parseBinding(env['SESSION_BINDING'])
  const renewAfterMs =
    env['SESSION_RENEW_AFTER'] === 'off'
      ? false
      : parseDurationEnv('SESSION_RENEW_AFTER (or "off")', env['SESSION_RENEW_AFTER'], 900_000)
  const port = parsePort(env['PORT'])
  const store = parseStore(env['SESSION_STORE'])
  const { secrets, warning } = resolveSecrets(env, dataDir, production)
  const admin = resolveAdminSecret(env, secrets)
  const trustProxy = parseTrustProxy(env['TRUST_PROXY'])
  return {
    port,
    production,
    store,
    dataDir,
    redisUrl: env['REDIS_URL'] || 'redis://127.0.0.1:6379',
    databaseUrl: env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
    secrets,
    idleTimeoutMs,
    absoluteTimeoutMs,
    renewAfterMs,
    reauthMaxAgeMs,
    binding,
    maxSessionsPerUser: parseMaxPerUser(env['SESSION_MAX_PER_USER']),
    sessionLimitPolicy: parseChoice(env, 'SESSION_LIMIT_POLICY', LIMIT_POLICIES),
    adminClass: admin.secret === undefined ? null : { secret: admin.secret, ...adminTimeouts },
    trustProxy,
    warnings: [warning, admin.warning, trustProxyWarning(trustProxy)].filter(
      (w) => w !== undefined,
    ),
  }
}
