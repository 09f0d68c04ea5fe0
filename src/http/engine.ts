import type { RequestContext, SessionState, UserSessions } from '../core/manager-types.js'
import type { OptionNames } from '../core/unknown-options.js'
import { refusal, type TetherError } from '../errors.js'
import type { AdapterHooks } from './adapter-hooks.js'
import type { CookieOptions } from './cookie.js'
import { csrfRejected, isUnsafe, refuseCrossSite, refuseToken, type CsrfFailure } from './csrf.js'
import {
  checkCookieOptions,
  checkCookiePrefix,
  resolveHttpOptions,
  type HttpOptions,
  type ResolvedHttpOptions,
} from './options.js'
import { RequestSession } from './request-session.js'
import type { RequestView } from './request-view.js'
import { presentedToken } from './transport.js'
import { defaultCookieName } from './set-cookie.js'

/** The per-user operations an application reaches through its adapter (`middleware.manager`). */
export type ManagerApi = UserSessions & { close(): Promise<void> }

/** One HTTP session engine: the options, resolved once, and the adapter that maps a framework onto it. */
export interface HttpEngine<N, R> {
  readonly cfg: ResolvedHttpOptions<N>
  readonly hooks: AdapterHooks<N, R>
  readonly manager: ManagerApi
  /**
   * Starts one request: the token (cookie or, with `bearer`, header), the origin check, the load
   * (no store I/O without a valid token), the CSRF token check. Resolves to the request's session, or to null for a request
   * outside the cookie's path; rejects with a `TetherError` (403, 429, 503) to refuse it.
   */
  start(
    native: N,
    out: R,
    view: RequestView,
    opts?: StartOptions,
  ): Promise<RequestSession<N, R> | null>
  /**
   * True for a request with nothing to do until the application first touches its session: no
   * token, a method the CSRF defence lets through, on the cookie's path, and new sessions stored
   * only when changed. The adapter may then call `startNew` at that first touch instead of `start`
   * now, so a request that never touches its session costs no session work (no id, no hold, no
   * commit). Answers exactly as `start` would for it: a new, empty session.
   */
  deferrable(view: RequestView): boolean
  /** Starts a deferrable request, synchronously: the new, empty session `start` would give it. */
  startNew(native: N, out: R, view: RequestView): RequestSession<N, R>
}

/** How an adapter starts a request. */
export interface StartOptions {
  /**
   * Leave the CSRF token check to the adapter (`checkCsrfToken(request)`), for frameworks that
   * parse the body after the session is loaded (Fastify's `preValidation`). @default false
   */
  deferTokenCheck?: boolean
  /**
   * Outside the cookie's path, give the request an inert session (never stored, no cookie) rather
   * than none: for APIs where the application asks for the session itself. @default false
   */
  inertOutsidePath?: boolean
}

/** Builds the engine; every option is validated here, once. */
export function createHttpEngine<N, R>(
  options: HttpOptions<N> | undefined,
  hooks: AdapterHooks<N, R>,
  /** The adapter's own option names, taken out of `options` before (for typo warnings). */
  adapterOptions?: OptionNames,
): HttpEngine<N, R> {
  const cfg = resolveHttpOptions(options, adapterOptions)
  const { manager } = cfg
  const engine: HttpEngine<N, R> = {
    cfg,
    hooks,
    manager: {
      listUserSessions: manager.listUserSessions,
      revokeSession: manager.revokeSession,
      revokeUserSessions: manager.revokeUserSessions,
      revokeAllSessions: manager.revokeAllSessions,
      close: manager.close,
    },
    start: (native, out, view, opts) => start(engine, native, out, view, opts),
    deferrable: (view) => deferrable(cfg, view),
    startNew: (native, out, view) => startNew(engine, native, out, view),
  }
  return Object.freeze(engine)
}

async function start<N, R>(
  engine: HttpEngine<N, R>,
  native: N,
  out: R,
  view: RequestView,
  opts: StartOptions = {},
): Promise<RequestSession<N, R> | null> {
  const { cfg } = engine
  // Like express-session: a request outside the cookie's path gets no session.
  if (cfg.mountPath !== undefined && !onCookiePath(view.path, cfg.mountPath))
    return outsidePath(engine, native, out, view, opts)
  const cookieOptions = cookieOptionsFor(cfg, native)
  // A cookie function picks the path per request: outside it, no session (as express-session).
  if (typeof cfg.cookie === 'function' && !onCookiePath(view.path, cookieOptions.path ?? '/'))
    return outsidePath(engine, native, out, view, opts)
  const name = cookieNameOf(cfg, cookieOptions, view)
  const presented = presentedToken(view, cfg.bearer, name)
  // Before the session is loaded: a cross-site request costs a few string compares, no store I/O.
  // A bearer request is no browser's by itself: neither check applies to it.
  if (presented.transport === 'cookie' && isUnsafe(cfg.csrf, view.method)) {
    const refused = refuseCrossSite(cfg.csrf!, view)
    if (refused !== undefined) throw rejectCsrf(cfg, contextOf(view, undefined), refused)
  }
  const ctx = contextOf(view, presented.token)
  const request = new RequestSession(engine, native, out, view, ctx, cookieOptions, name)
  request.transport = presented.transport
  await loadInto(request)
  // After the load (the token is tied to the session), before the route.
  if (opts.deferTokenCheck !== true) checkCsrfToken(request)
  return request
}

function deferrable<N>(cfg: ResolvedHttpOptions<N>, view: RequestView): boolean {
  if (cfg.saveUninitialized || typeof cfg.cookie === 'function') return false
  if (cfg.mountPath !== undefined && !onCookiePath(view.path, cfg.mountPath)) return false
  if (isUnsafe(cfg.csrf, view.method)) return false
  if (cfg.bearer && (view.header('authorization') ?? view.header('x-session-transport')))
    return false
  // A substring test, not a parse: a request that may carry the cookie takes `start`, which
  // parses the header once (a name inside another cookie's name only costs the full start).
  const name = cookieNameOf(cfg, cfg.cookie, view)
  return view.header('cookie')?.includes(`${name}=`) !== true
}

function startNew<N, R>(
  engine: HttpEngine<N, R>,
  native: N,
  out: R,
  view: RequestView,
): RequestSession<N, R> {
  const cookieOptions = engine.cfg.cookie as CookieOptions
  const name = cookieNameOf(engine.cfg, cookieOptions, view)
  return newSessionRequest(engine, native, out, view, cookieOptions, name)
}

/** A request with no token and a new, empty session: `startNew`'s, and one outside the path. */
function newSessionRequest<N, R>(
  engine: HttpEngine<N, R>,
  native: N,
  out: R,
  view: RequestView,
  cookieOptions: CookieOptions,
  name: string,
  inert = false,
): RequestSession<N, R> {
  const ctx = contextOf(view, undefined)
  const request = new RequestSession(engine, native, out, view, ctx, cookieOptions, name)
  request.inert = inert
  request.attach(null)
  return request
}

/**
 * Loads the session a token names, outside a request's own cookie: for @fastify/session's
 * `decryptSession` (a WebSocket upgrade, a job). The token gets the cookie's checks (MAC and
 * absolute lifetime before any store I/O, throttling); there is no origin, CSRF or path check, as
 * nothing unsafe is asked of it. `cookie` overrides the configured attributes for this session.
 * Nothing commits it at the end: the caller saves it.
 */
export async function openSession<N, R>(
  engine: HttpEngine<N, R>,
  native: N,
  out: R,
  view: RequestView,
  token: string | undefined,
  cookie: CookieOptions = {},
): Promise<RequestSession<N, R>> {
  const { cfg } = engine
  const cookieOptions = { ...cookieOptionsFor(cfg, native), ...cookie }
  checkCookieOptions(cookieOptions)
  checkCookiePrefix(cfg.name, cookieOptions)
  const name = cookieNameOf(cfg, cookieOptions, view)
  const ctx = contextOf(view, token)
  const request = new RequestSession(engine, native, out, view, ctx, cookieOptions, name)
  await loadInto(request)
  return request
}

/** Loads the request's session (no store I/O without a valid token) and attaches it. */
async function loadInto<N, R>(request: RequestSession<N, R>): Promise<void> {
  const outcome = await request.engine.cfg.manager.load(request.ctx)
  if (outcome.session === null && outcome.retryAfterS !== undefined) {
    // The invalid cookie is cleared, so a real user holding a stale one gets through next time.
    request.clearCookie()
    throw refusal(
      'TETHER_RATE_LIMITED',
      'too many invalid session tokens from this address; retry later',
      { retryAfter: outcome.retryAfterS },
    )
  }
  request.attach(outcome.session)
}

/**
 * RFC 6265 §5.1.4 path-match: a cookie on `/admin` covers `/admin` and `/admin/users`, not
 * `/administrator` (the browser would not send it there, so no session starts there either).
 */
function onCookiePath(path: string, cookiePath: string): boolean {
  if (!path.startsWith(cookiePath)) return false
  return (
    path.length === cookiePath.length ||
    cookiePath.endsWith('/') ||
    path.charCodeAt(cookiePath.length) === 47 // '/'
  )
}

/**
 * The CSRF token check of an unsafe request, once its session is loaded (and, for a form post,
 * its body parsed): throws the 403 `TetherError`, after emitting `csrf.rejected`.
 */
export function checkCsrfToken<N, R>(request: RequestSession<N, R>): void {
  const { cfg } = request.engine
  if (cfg.csrf === null || !cfg.csrf.token || !isUnsafe(cfg.csrf, request.view.method)) return
  if (request.transport === 'bearer') return
  const session = request.session.isNew ? null : request.session
  const refused = refuseToken(cfg.csrf, cfg.csrfTokens, request.view, session)
  if (refused !== undefined) throw rejectCsrf(cfg, request.ctx, refused, session)
}

function outsidePath<N, R>(
  engine: HttpEngine<N, R>,
  native: N,
  out: R,
  view: RequestView,
  opts: StartOptions,
): RequestSession<N, R> | null {
  if (opts.inertOutsidePath !== true) return null
  return newSessionRequest(
    engine,
    native,
    out,
    view,
    cookieOptionsFor(engine.cfg, native),
    '',
    true,
  )
}

/** The request context the manager sees: the token and what events may carry. */
function contextOf(view: RequestView, token: string | undefined): RequestContext {
  return {
    token,
    ip: view.ip,
    userAgent: view.header('user-agent'),
    path: view.path,
  }
}

/** The session cookie's name: the configured one, or the default for these attributes. */
function cookieNameOf<N>(
  cfg: ResolvedHttpOptions<N>,
  cookieOptions: CookieOptions,
  view: RequestView,
): string {
  return cfg.name ?? defaultCookieName(cookieOptions, view.secure)
}

function cookieOptionsFor<N>(cfg: ResolvedHttpOptions<N>, native: N): CookieOptions {
  if (typeof cfg.cookie !== 'function') return cfg.cookie
  const opts = cfg.cookie(native)
  checkCookieOptions(opts)
  checkCookiePrefix(cfg.name, opts)
  return opts
}

/** Emits `csrf.rejected` (never the token, nonce or id) and returns the 403 error. */
function rejectCsrf<N>(
  cfg: ResolvedHttpOptions<N>,
  ctx: RequestContext,
  reason: CsrfFailure,
  session?: SessionState | null,
): TetherError {
  const userId = session?.record.userId
  cfg.manager.options.emit('csrf.rejected', ctx, {
    reason,
    ...(session ? { ref: session.ref } : {}),
    ...(userId !== undefined ? { userId } : {}),
  })
  return csrfRejected(reason)
}
