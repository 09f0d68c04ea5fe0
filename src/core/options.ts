import { systemClock, type Clock } from '../clock.js'
import { createKeyring, mergeKeyrings, type KeyEntry, type SecretInput } from '../codec/keyring.js'
import { createTokenVerifier, type TokenVerifier } from '../codec/verified-tokens.js'
import { invalidOption } from '../errors.js'
import { createEmitter, type Emit } from '../events/emitter.js'
import type { EventListener } from '../events/types.js'
import { type SessionLimitPolicy, type SessionStore } from '../stores/types.js'
import type { BindingPolicy } from './binding.js'
import { createThrottle, type Throttle, type ThrottleOptions } from './throttle.js'
import { parseDuration } from './duration.js'
import { classOf } from './records.js'
import { resolveStore, sealedRenewAfter } from './store-option.js'
import { warnUnknownOptions } from './unknown-options.js'
import { createStoreHealth, type StoreHealth } from './store-deadlines.js'

/** Timeouts and keys of one session class. */
export interface SessionClassOptions {
  /** The class's own secret(s): removing them ends every session of the class and no other. */
  secret: SecretInput
  /** @default the manager's `idleTimeout` */
  idleTimeout?: number | string
  /** @default the manager's `absoluteTimeout` */
  absoluteTimeout?: number | string
}

/** Options of `createSessionManager` (the Express adapter accepts these too). */
export interface ManagerOptions {
  /** Secret(s) that sign cookies: a string, an array (the first signs, all verify), or `[{ kid, secret }]`. Each at least 32 bytes. */
  secret: SecretInput
  /**
   * Where sessions live: a Tether store, or `'sealed'` to keep the whole session in the cookie,
   * encrypted (AES-256-GCM), with no session store at all (docs/sealed.md: what holds and what
   * does not, the size budget, revocation through `revocationStore`).
   * @default a new bounded `MemoryStore` (one process only)
   */
  store?: SessionStore | 'sealed'
  /**
   * With `store: 'sealed'` only: where the small "not before" marks that revoke sealed sessions
   * live (per user, per session, everyone). Any Tether store with marks: `MemoryStore`,
   * `SqliteStore`, `RedisStore`, `PostgresStore`; share one between processes so a logout or
   * `revokeUserSessions()` holds in all of them (within `revocationCheckInterval`).
   * @default a new `MemoryStore` (revocations hold in this process only)
   */
  revocationStore?: SessionStore
  /**
   * Idle timeout, enforced on the server: an idle session ends no later than this plus 10 % of it
   * after its last request, an active one never earlier. May be longer than `absoluteTimeout`
   * (the absolute lifetime then decides).
   * @default '30m'
   */
  idleTimeout?: number | string
  /** Absolute lifetime from creation, enforced on the server from the signed creation time. @default '8h' */
  absoluteTimeout?: number | string
  /**
   * An unmodified session is written to the store at most once per this interval (lazy touch).
   * At most a tenth of every idle timeout (the manager's and each class's): larger is refused,
   * since an idle session would outlive its timeout by more than 10 %.
   * @default the smaller of '60s' and a tenth of the idle timeout, per session class
   */
  touchAfter?: number | string
  /**
   * A session gets a new id this long after its current one was issued; its data, creation time
   * and user stay. The previous id keeps working for `renewGrace`, so requests in flight are not
   * logged out; presented later, once the new id has been used, it means two parties hold the
   * session, which is then revoked (`session.revoked`, reason `reuse`). `false` turns renewal off.
   * Off, and refused, on a store without atomic writes (a wrapped express-session store).
   * @default '15m'
   */
  renewAfter?: false | number | string
  /**
   * How long a renewed-out id is still honoured; shorter than `renewAfter`.
   * @default the smaller of '1m' and half of `renewAfter`
   */
  renewGrace?: number | string
  /** Time limit of every store operation. @default '1s' */
  storeTimeout?: number | string
  /** On a store failure: `'fail-closed'` raises `TETHER_STORE_UNAVAILABLE` (503); `'anonymous'` goes on without a session. @default 'fail-closed' */
  onStoreError?: 'fail-closed' | 'anonymous'
  /** Most live sessions one user may hold; a login past it evicts the oldest (see `onSessionLimit`). @default unlimited */
  maxSessionsPerUser?: number
  /**
   * What a login past `maxSessionsPerUser` does: `'evict-oldest'` ends the user's oldest sessions
   * (`session.revoked`, reason `cap`); `'refuse'` refuses the new login with `TETHER_SESSION_LIMIT`
   * (409) and ends nothing. Either is decided atomically in the store. Needs `maxSessionsPerUser`.
   * @default 'evict-oldest'
   */
  onSessionLimit?: SessionLimitPolicy
  /**
   * How long a process keeps using the "not before" mark of `revokeAllSessions()` before reading
   * it from the store again: at most one store read per process per interval, never one per
   * request. So after the switch is pulled, another process may accept an old session for up to
   * this long (the process that pulled it refuses at once). `0` reads the mark on every request.
   * @default '5s'
   */
  revocationCheckInterval?: number | string
  /** Largest serialised session data accepted at commit, in bytes. @default 65536 */
  maxSessionBytes?: number
  /** Session classes with their own keyring and timeouts, chosen at `login(userId, { class })`. @default none */
  classes?: Record<string, SessionClassOptions>
  /**
   * What a logged-in session used from another user agent or network than its login's does:
   * `'log'` (event only), `'step-up'` (authAge null until `reauthenticated()`), `'revoke'`.
   * @default 'log'
   */
  binding?: BindingPolicy
  /**
   * Throttling of invalid session cookies per client address (429 past the limit); `false` turns
   * it off. Only requests carrying an invalid cookie are counted or refused.
   * @default { limit: 20, window: '1m', maxTracked: 10000 }
   */
  throttle?: false | ThrottleOptions
  /** Receives every security event. @default none */
  onEvent?: EventListener
  /** Time source; tests inject one. @default Date.now */
  clock?: Clock
}

/** One session class, resolved. */
export interface ClassPolicy {
  readonly name: string
  readonly signing: KeyEntry
  readonly idleTimeoutMs: number
  readonly absoluteTimeoutMs: number
  /** Lazy-touch interval, at most a tenth of `idleTimeoutMs`: the slack added to each idle expiry. */
  readonly touchAfterMs: number
}

/** Options after validation: what the request path reads. Frozen. */
export interface ResolvedOptions {
  readonly keys: ReadonlyMap<string, KeyEntry>
  /** Verifies a signed token against `keys`, keeping the tokens that verified (codec/verified-tokens.ts). */
  readonly verifyToken: TokenVerifier
  readonly classes: ReadonlyMap<string, ClassPolicy>
  /** Where sessions live; in sealed mode the revocation store (only its "not before" marks are used). */
  readonly store: SessionStore
  readonly ownsStore: boolean
  /** `store: 'sealed'`: sessions travel sealed in the cookie (core/sealed/), none are stored. */
  readonly sealed: boolean
  /** null when renewal is off. */
  readonly renewAfterMs: number | null
  readonly renewGraceMs: number
  /** Time limits of store calls, and the failure-burst state behind `store.error`. */
  readonly health: StoreHealth
  readonly failOpen: boolean
  readonly binding: BindingPolicy
  /** null when throttling is off. */
  readonly throttle: Throttle | null
  readonly maxSessionsPerUser: number | undefined
  readonly sessionLimit: SessionLimitPolicy
  /** How long a read of the store's "not before" mark is reused; 0: read per request. */
  readonly revocationCheckMs: number
  readonly maxSessionBytes: number
  readonly emit: Emit
  readonly clock: Clock
}

const CLASS_NAME = /^[a-z][a-z0-9_-]{0,31}$/

/** Every option of `createSessionManager`: anything else gets a TETHER_UNKNOWN_OPTION warning. */
export const MANAGER_OPTIONS = {
  secret: true,
  store: true,
  revocationStore: true,
  idleTimeout: true,
  absoluteTimeout: true,
  touchAfter: true,
  renewAfter: true,
  renewGrace: true,
  storeTimeout: true,
  onStoreError: true,
  maxSessionsPerUser: true,
  onSessionLimit: true,
  revocationCheckInterval: true,
  maxSessionBytes: true,
  classes: true,
  binding: true,
  throttle: true,
  onEvent: true,
  clock: true,
} as const satisfies Record<keyof ManagerOptions, true>

const CLASS_OPTIONS = {
  secret: true,
  idleTimeout: true,
  absoluteTimeout: true,
} as const satisfies Record<keyof SessionClassOptions, true>

const THROTTLE_OPTIONS = {
  limit: true,
  window: true,
  maxTracked: true,
} as const satisfies Record<keyof ThrottleOptions, true>

/** Validates every option once; throws `TetherError` naming the option and the fix. */
export function resolveOptions(opts: ManagerOptions): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw invalidOption(`options must be an object with at least "secret"; got ${String(opts)}`)
  }
  warnUnknownOptions(opts, MANAGER_OPTIONS)
  const idleTimeoutMs = parseDuration('idleTimeout', opts.idleTimeout, 30 * 60_000)
  const absoluteTimeoutMs = parseDuration('absoluteTimeout', opts.absoluteTimeout, 8 * 3_600_000)
  const touchAfterMs =
    opts.touchAfter === undefined ? undefined : parseDuration('touchAfter', opts.touchAfter, 0)
  const ring = createKeyring(opts.secret, '"secret"')
  const classes = new Map<string, ClassPolicy>([
    [
      'default',
      {
        name: 'default',
        signing: ring.signing,
        idleTimeoutMs,
        absoluteTimeoutMs,
        touchAfterMs: touchAfterFor('idleTimeout', idleTimeoutMs, touchAfterMs),
      },
    ],
  ])
  const rings = [ring]
  if (opts.classes !== undefined) {
    if (typeof opts.classes !== 'object' || opts.classes === null) {
      throw invalidOption(`"classes" must be an object like { admin: { secret, idleTimeout } }`)
    }
    for (const [name, c] of Object.entries(opts.classes)) {
      if (!CLASS_NAME.test(name) || name === 'default') {
        throw invalidOption(
          `"classes" key ${JSON.stringify(name)} must be lower-case letters, digits, _ or - and not "default"`,
        )
      }
      const label = `classes.${name}`
      const classRing = createKeyring(c?.secret, `"${label}.secret"`, name)
      warnUnknownOptions(c, CLASS_OPTIONS, `${label}.`)
      rings.push(classRing)
      const classIdleMs = parseDuration(`${label}.idleTimeout`, c.idleTimeout, idleTimeoutMs)
      classes.set(name, {
        name,
        signing: classRing.signing,
        idleTimeoutMs: classIdleMs,
        absoluteTimeoutMs: parseDuration(
          `${label}.absoluteTimeout`,
          c.absoluteTimeout,
          absoluteTimeoutMs,
        ),
        touchAfterMs: touchAfterFor(`${label}.idleTimeout`, classIdleMs, touchAfterMs),
      })
    }
  }
  const onStoreError = opts.onStoreError ?? 'fail-closed'
  if (onStoreError !== 'fail-closed' && onStoreError !== 'anonymous') {
    throw invalidOption(
      `"onStoreError" must be "fail-closed" or "anonymous"; got ${JSON.stringify(onStoreError)}`,
    )
  }
  const clock = opts.clock ?? systemClock
  if (typeof clock?.now !== 'function')
    throw invalidOption(`"clock" must be an object with a now() method`)
  if (opts.onEvent !== undefined && typeof opts.onEvent !== 'function') {
    throw invalidOption(`"onEvent" must be a function (event) => void; got ${typeof opts.onEvent}`)
  }
  const { store, ownsStore, sealed } = resolveStore(opts, clock)
  const renewAfterMs = sealed
    ? sealedRenewAfter(opts.renewAfter)
    : renewAfterOf(opts.renewAfter, store)
  const keys = mergeKeyrings(rings)
  const byClass = { classes }
  return Object.freeze({
    keys,
    verifyToken: createTokenVerifier(keys, function lifetimeOf(key) {
      return classOf(byClass, key).absoluteTimeoutMs
    }),
    classes,
    store,
    ownsStore,
    sealed,
    renewAfterMs,
    renewGraceMs: renewGraceOf(opts.renewGrace, renewAfterMs),
    health: createStoreHealth(parseDuration('storeTimeout', opts.storeTimeout, 1000)),
    failOpen: onStoreError === 'anonymous',
    binding: bindingPolicy(opts.binding),
    throttle: throttleOf(opts.throttle, clock),
    maxSessionsPerUser: positiveInt('maxSessionsPerUser', opts.maxSessionsPerUser),
    sessionLimit: sessionLimitOf(opts.onSessionLimit, opts.maxSessionsPerUser),
    revocationCheckMs:
      opts.revocationCheckInterval === 0
        ? 0
        : parseDuration('revocationCheckInterval', opts.revocationCheckInterval, 5000),
    maxSessionBytes: positiveInt('maxSessionBytes', opts.maxSessionBytes) ?? 65_536,
    emit: createEmitter(opts.onEvent, clock),
    clock,
  })
}

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(`"${name}" must be a positive integer; got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * The lazy-touch interval of a class whose idle timeout is `idleMs`. A lazily touched session
 * outlives its last request by up to touchAfter past the idle timeout, so touchAfter is at most a
 * tenth of it (DESIGN.md "Timeouts"): by default min(60 s, idle / 10); an explicit one above that
 * is refused.
 */
function touchAfterFor(idleName: string, idleMs: number, explicitMs: number | undefined): number {
  const boundMs = Math.floor(idleMs / 10)
  if (explicitMs === undefined) return Math.min(60_000, boundMs)
  if (explicitMs > boundMs) {
    throw invalidOption(
      `"touchAfter" (${explicitMs} ms) is more than a tenth of "${idleName}" (${idleMs} ms): ` +
        `an idle session would outlive its idle timeout by more than 10 %. Set "touchAfter" to ` +
        `at most ${boundMs} ms, or leave it unset (it then follows each idle timeout)`,
      'touchAfter',
    )
  }
  return explicitMs
}

function renewAfterOf(value: unknown, store: SessionStore): number | null {
  if (value === false) return null
  if (store.atomicWrites === false) {
    if (value === undefined) return null
    throw invalidOption(
      `"renewAfter" needs a store with atomic writes; a wrapped express-session store has none, ` +
        `so pass renewAfter: false or use SqliteStore, RedisStore or PostgresStore`,
      'renewAfter',
    )
  }
  return parseDuration('renewAfter', value, 15 * 60_000)
}

function renewGraceOf(value: unknown, renewAfterMs: number | null): number {
  // By default the grace follows renewAfter, so a short renewal interval needs no grace setting.
  const defaultMs = renewAfterMs === null ? 60_000 : Math.min(60_000, Math.floor(renewAfterMs / 2))
  const graceMs = parseDuration('renewGrace', value, defaultMs)
  if (renewAfterMs !== null && graceMs >= renewAfterMs) {
    throw invalidOption(
      `"renewGrace" (${graceMs} ms) must be shorter than "renewAfter" (${renewAfterMs} ms)`,
      'renewGrace',
    )
  }
  return graceMs
}

function sessionLimitOf(value: unknown, maxSessionsPerUser: unknown): SessionLimitPolicy {
  if (value === undefined) return 'evict-oldest'
  if (value !== 'evict-oldest' && value !== 'refuse') {
    throw invalidOption(
      `"onSessionLimit" must be "evict-oldest" or "refuse"; got ${JSON.stringify(value)}`,
    )
  }
  if (maxSessionsPerUser === undefined) {
    throw invalidOption(`"onSessionLimit" needs "maxSessionsPerUser"; set both or neither`)
  }
  return value
}

function bindingPolicy(value: unknown): BindingPolicy {
  if (value === undefined) return 'log'
  if (value === 'log' || value === 'step-up' || value === 'revoke') return value
  throw invalidOption(
    `"binding" must be "log", "step-up" or "revoke"; got ${JSON.stringify(value)}`,
    'binding',
  )
}

function throttleOf(value: false | ThrottleOptions | undefined, clock: Clock): Throttle | null {
  if (value === false) return null
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw invalidOption(
      `"throttle" must be false or { limit, window, maxTracked }; got ${JSON.stringify(value)}`,
    )
  }
  if (value !== undefined) warnUnknownOptions(value, THROTTLE_OPTIONS, 'throttle.')
  return createThrottle(
    positiveInt('throttle.limit', value?.limit) ?? 20,
    parseDuration('throttle.window', value?.window, 60_000),
    positiveInt('throttle.maxTracked', value?.maxTracked) ?? 10_000,
    clock,
  )
}
