import { checkCustomId } from '../codec/token.js'
import { invalidOption } from '../errors.js'
import { createSessionManager } from '../core/manager.js'
import type { SessionManager } from '../core/manager-types.js'
import { MANAGER_OPTIONS, type ManagerOptions } from '../core/options.js'
import { warnUnknownOptions, type OptionNames } from '../core/unknown-options.js'
import { fromExpressSessionStore, type ExpressStoreLike } from '../stores/compat.js'
import type { SessionStore } from '../stores/types.js'
import { resolveCsrfOptions, type CsrfOptions, type ResolvedCsrfOptions } from '../csrf/options.js'
import { createCsrfTokens, type CsrfTokens } from '../csrf/token.js'
import { COOKIE_OPTIONS, type Cookie, type CookieOptions } from './cookie.js'
import { insecureCookieWarning } from './set-cookie.js'

/**
 * Options of every adapter: the session manager's, plus the HTTP ones. `N` is the framework's
 * request type, which `cookie` (as a function) and `genid` receive.
 */
export interface HttpOptions<N = unknown> extends Omit<ManagerOptions, 'store'> {
  /** Cookie name. @default '__Host-sid' over https (Path=/, no Domain), 'sid' otherwise (express-session: 'connect.sid') */
  name?: string
  /**
   * A Tether store, any express-session-style store (wrapped with `fromExpressSessionStore`), or
   * `'sealed'`: the whole session in the cookie, encrypted, with no session store (docs/sealed.md).
   * @default a bounded MemoryStore
   */
  store?: SessionStore | ExpressStoreLike | 'sealed'
  /** Cookie attributes, or a function of the request returning them. */
  cookie?: CookieOptions | ((req: N) => CookieOptions)
  /** Send the cookie on every response. @default false */
  rolling?: boolean
  /** Write unmodified sessions back on every request. @default false (express-session: true) */
  resave?: boolean
  /** Store new sessions that hold no data. @default false (express-session: true) */
  saveUninitialized?: boolean
  /** Custom session id generator; its output is validated and signed. @default 256 random bits */
  genid?: (req: N) => string
  /** What happens when the application drops its session object (`req.session = null`). @default 'keep' */
  unset?: 'keep' | 'destroy'
  /**
   * CSRF protection. On by default: unsafe requests that `Sec-Fetch-Site` or `Origin` mark as
   * cross-site are refused (403) before any store I/O; same-origin apps never notice. `{ token: true }`
   * also requires a token from `csrfToken(req)`; `false` turns both off.
   * @default true (express-session has none)
   */
  csrf?: boolean | CsrfOptions
  /**
   * Header tokens, for clients that cannot keep cookies (mobile apps, CLIs, server-to-server): a
   * request with `X-Session-Transport: bearer` gets every new token in the `X-Session-Token`
   * response header, never a cookie, and sends it back as `Authorization: Bearer <token>`. Such
   * requests skip the origin and CSRF checks (a browser never adds these headers by itself).
   * @default false (an Authorization header is then ignored)
   */
  bearer?: boolean
}

/** Every option the engine reads: anything else gets a TETHER_UNKNOWN_OPTION warning at startup. */
export const HTTP_OPTIONS = {
  ...MANAGER_OPTIONS,
  name: true,
  store: true,
  cookie: true,
  rolling: true,
  resave: true,
  saveUninitialized: true,
  genid: true,
  unset: true,
  csrf: true,
  bearer: true,
} as const satisfies Record<keyof HttpOptions, true>

/** HTTP options after validation: what the request path reads. Frozen. */
export interface ResolvedHttpOptions<N = unknown> {
  readonly manager: SessionManager
  readonly name: string | undefined
  readonly cookie: CookieOptions | ((req: N) => CookieOptions)
  /** The cookie's fixed path, or undefined when `cookie` is a function (checked per request). */
  readonly mountPath: string | undefined
  readonly rolling: boolean
  readonly resave: boolean
  readonly saveUninitialized: boolean
  readonly genid: ((req: N) => string) | undefined
  readonly unsetDestroy: boolean
  /** The store as the application passed it (express-session's `req.sessionStore`). */
  readonly userStore: unknown
  /** CSRF checks, or null when `csrf: false` (no per-request work then). */
  readonly csrf: ResolvedCsrfOptions | null
  /** Makes and checks CSRF tokens with the manager's keys (`csrfToken()` works even when `csrf` is off). */
  readonly csrfTokens: CsrfTokens
  /** Header tokens (`X-Session-Transport` / `Authorization: Bearer` / `X-Session-Token`) accepted. */
  readonly bearer: boolean
  /** In production: warns once when a session cookie goes out without Secure; null otherwise. */
  readonly warnInsecureCookie: ((cookie: Cookie) => void) | null
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Validates the HTTP options once, at startup, and builds the session manager. `adapterOptions`
 * names the options the adapter took out before (they count as known when a typo is reported).
 */
export function resolveHttpOptions<N>(
  options: HttpOptions<N> | undefined,
  adapterOptions: OptionNames = {},
): ResolvedHttpOptions<N> {
  const o = (options ?? {}) as HttpOptions<N> & Record<string, unknown>
  if (typeof o !== 'object' || o === null) {
    throw invalidOption(`options must be an object with at least "secret"; got ${String(o)}`)
  }
  warnUnknownOptions(o, { ...HTTP_OPTIONS, ...adapterOptions })
  const name = o.name
  if (name !== undefined && (typeof name !== 'string' || !COOKIE_NAME.test(name))) {
    throw invalidOption(
      `"name" must be a cookie name (RFC 6265 token characters); got ${JSON.stringify(name)}`,
    )
  }
  if (o.genid !== undefined && typeof o.genid !== 'function') {
    throw invalidOption(`genid option must be a function (req) => string; got ${typeof o.genid}`)
  }
  if (o.unset !== undefined && o.unset !== 'keep' && o.unset !== 'destroy') {
    throw invalidOption(`unset option must be "destroy" or "keep"; got ${JSON.stringify(o.unset)}`)
  }
  for (const flag of ['rolling', 'resave', 'saveUninitialized', 'bearer'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      throw invalidOption(`"${flag}" must be true or false; got ${JSON.stringify(o[flag])}`)
    }
  }
  const cookie = o.cookie ?? {}
  if (typeof cookie !== 'function') {
    checkCookieOptions(cookie)
    checkCookiePrefix(name, cookie)
    warnUnknownOptions(cookie, COOKIE_OPTIONS, 'cookie.')
  }
  const csrf = resolveCsrfOptions(o.csrf)
  const userStore = o.store
  const store = userStore === undefined ? undefined : asTetherStore(userStore)
  // Only the manager's own options: the rest were checked (and unknown ones warned about) above.
  const managerOnly = pickOptions(o, MANAGER_OPTIONS) as ManagerOptions
  const managerOptions: ManagerOptions =
    store === undefined ? managerOnly : { ...managerOnly, store }
  const production = process.env['NODE_ENV'] === 'production'
  if (userStore === 'sealed' && o.revocationStore === undefined && production) {
    process.emitWarning(
      'tether-session: store: \'sealed\' without a "revocationStore" keeps revocations (logout, ' +
        "revokeUserSessions) in this process's memory: other processes and a restart forget them; " +
        'pass revocationStore: a RedisStore, PostgresStore or SqliteStore shared by every process',
      { code: 'TETHER_MEMORY_STORE' },
    )
  }
  if (userStore === undefined && production) {
    process.emitWarning(
      'tether-session: no "store" given, so sessions live in this process\'s memory and are lost on restart; ' +
        'use SqliteStore, RedisStore or PostgresStore in production',
      { code: 'TETHER_MEMORY_STORE' },
    )
  }
  const manager = createSessionManager(managerOptions)
  return Object.freeze({
    manager,
    name,
    cookie,
    mountPath: typeof cookie === 'function' ? undefined : (cookie.path ?? '/'),
    rolling: o.rolling ?? false,
    resave: o.resave ?? false,
    saveUninitialized: o.saveUninitialized ?? false,
    genid: o.genid,
    unsetDestroy: o.unset === 'destroy',
    userStore: userStore ?? null,
    csrf,
    csrfTokens: createCsrfTokens(manager.options),
    bearer: o.bearer ?? false,
    warnInsecureCookie: production ? insecureCookieWarning() : null,
  })
}

/** The own keys of `options` that `names` lists. */
function pickOptions<T extends object>(options: T, names: OptionNames): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([key]) => Object.hasOwn(names, key)),
  ) as Partial<T>
}

function asTetherStore(store: SessionStore | ExpressStoreLike | 'sealed'): SessionStore | 'sealed' {
  if (store === 'sealed') return store
  return (store as SessionStore).tetherStore === 1
    ? (store as SessionStore)
    : fromExpressSessionStore(store as ExpressStoreLike)
}

/** Refuses cookie settings that weaken the session cookie. Called at startup, and per request for a cookie function. */
export function checkCookieOptions(cookie: CookieOptions): void {
  if (typeof cookie !== 'object' || cookie === null) {
    throw invalidOption(
      `"cookie" must be an object of cookie attributes or a function returning one`,
    )
  }
  if (cookie.httpOnly === false) {
    throw invalidOption(
      '"cookie.httpOnly" cannot be false: a session cookie readable by scripts can be stolen by any XSS. ' +
        'Give scripts a separate, non-session value if they need one',
    )
  }
  if (
    cookie.secure !== undefined &&
    cookie.secure !== true &&
    cookie.secure !== false &&
    cookie.secure !== 'auto'
  ) {
    throw invalidOption(
      `"cookie.secure" must be true, false or "auto"; got ${JSON.stringify(cookie.secure)}`,
      'cookie.secure',
    )
  }
  if (cookie.sameSite === 'none' && cookie.secure === false) {
    throw invalidOption(
      '"cookie.sameSite" "none" needs "cookie.secure" true or "auto"; browsers drop it otherwise',
    )
  }
  if (
    cookie.expires != null &&
    !(cookie.expires instanceof Date && Number.isFinite(cookie.expires.getTime()))
  ) {
    throw invalidOption(`"cookie.expires" must be a valid Date or null; prefer "cookie.maxAge"`)
  }
  if (
    cookie.maxAge !== undefined &&
    cookie.maxAge !== null &&
    (typeof cookie.maxAge !== 'number' || !(cookie.maxAge > 0))
  ) {
    throw invalidOption(
      `"cookie.maxAge" must be a positive number of ms or null; got ${JSON.stringify(cookie.maxAge)}`,
    )
  }
}

/**
 * Refuses a cookie name whose prefix the attributes break, since browsers drop such a cookie
 * (RFC 6265bis "Cookie Name Prefixes", matched in any case): `__Host-` with a Domain, a Path other
 * than `/` or without Secure; `__Secure-` without Secure. At startup, and per request for a
 * cookie function.
 */
export function checkCookiePrefix(name: string | undefined, cookie: CookieOptions): void {
  const prefix = /^__host-/i.test(name ?? '')
    ? '__Host-'
    : /^__secure-/i.test(name ?? '')
      ? '__Secure-'
      : undefined
  if (prefix === undefined) return
  const named = `"name" ${JSON.stringify(name)}`
  if (prefix === '__Host-' && cookie.domain !== undefined) {
    throw invalidOption(
      `${named} cannot be used with "cookie.domain": browsers drop a __Host- cookie that has a ` +
        `Domain attribute. Remove "cookie.domain" (the cookie is then host-only), or use a name ` +
        `without the __Host- prefix to share the cookie with other hosts`,
      'cookie.domain',
    )
  }
  if (prefix === '__Host-' && (cookie.path ?? '/') !== '/') {
    throw invalidOption(
      `${named} needs "cookie.path" "/" (got ${JSON.stringify(cookie.path)}): browsers drop a ` +
        `__Host- cookie with any other Path. Set "cookie.path" to "/", or use a name without ` +
        `the __Host- prefix`,
      'cookie.path',
    )
  }
  if (cookie.secure === false) {
    throw invalidOption(
      `${named} cannot be used with "cookie.secure" false: browsers drop a ${prefix} cookie ` +
        `without Secure. Set "cookie.secure" to true or "auto" (behind a TLS proxy, with ` +
        `app.set('trust proxy', ...) or "proxy": true)`,
      'cookie.secure',
    )
  }
}

/** Runs `genid` and validates what it returned. */
export function customId<N>(genid: (req: N) => string, req: N): string {
  const id = genid(req)
  const problem = checkCustomId(id)
  if (problem !== null) throw invalidOption(`genid option ${problem}`)
  return id
}
