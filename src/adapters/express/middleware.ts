import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestContext, SessionState } from '../../core/manager-types.js'
import { TetherError, isTetherError } from '../../errors.js'
import type { UserSessions } from '../../core/user-sessions.js'
import { Cookie, type CookieOptions } from './cookie.js'
import { csrfRejected, refuseCrossSite, refuseToken, type CsrfFailure } from './csrf.js'
import { holdResponse } from './hold-response.js'
import {
  checkCookieOptions,
  checkCookiePrefix,
  resolveExpressOptions,
  type ExpressSessionOptions,
  type ResolvedExpressOptions,
} from './options.js'
import { DUPLICATE, readCookie } from './read-cookie.js'
import { RequestState } from './request-state.js'
import type { Session } from './session.js'
import { clearCookieHeader, defaultCookieName } from './set-cookie.js'

type Req = IncomingMessage & {
  session?: Session | null
  sessionID?: string
  sessionStore?: unknown
  secure?: boolean
  ip?: string
  originalUrl?: string
}
type Next = (err?: unknown) => void

/** The middleware function, with the session manager's per-user operations on `.manager`. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  readonly manager: UserSessions & { close(): Promise<void> }
}

/** express-session's `issecure`: TLS socket, or X-Forwarded-Proto when `proxy`, or Express's `req.secure`. */
function isSecure(req: Req, proxy: boolean | undefined): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true
  if (proxy === false) return false
  if (proxy !== true) return req.secure === true
  const header = String(req.headers['x-forwarded-proto'] ?? '')
  return header.split(',')[0]!.trim().toLowerCase() === 'https'
}

function pathnameOf(url: string): string {
  const q = url.indexOf('?')
  return (q === -1 ? url : url.slice(0, q)) || '/'
}

/** Builds the request context the manager sees: the cookie value and what events may carry. */
function contextOf(
  req: Req,
  path: string,
  raw: string | typeof DUPLICATE | undefined,
): RequestContext {
  return {
    // A duplicated cookie name is treated as a malformed token: no session, one event.
    token: raw === DUPLICATE ? '' : raw,
    ip: req.ip ?? req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
    path,
  }
}

function cookieOptionsFor(cfg: ResolvedExpressOptions, req: Req): CookieOptions {
  if (typeof cfg.cookie !== 'function') return cfg.cookie
  const opts = cfg.cookie(req)
  checkCookieOptions(opts)
  checkCookiePrefix(cfg.name, opts)
  return opts
}

/**
 * Passes an error to Express. A store outage carries `Retry-After`, set on the response too, so a
 * custom error handler that only sets the status still sends it.
 */
function fail(res: ServerResponse, next: Next, err: unknown): void {
  const headers = isTetherError(err) ? err.headers : undefined
  if (headers !== undefined && !res.headersSent) {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  }
  next(err)
}

/** Emits `csrf.rejected` (never the token, nonce or id) and answers 403 through Express. */
function rejectCsrf(
  cfg: ResolvedExpressOptions,
  ctx: RequestContext,
  res: ServerResponse,
  next: Next,
  reason: CsrfFailure,
  session?: SessionState | null,
): void {
  const userId = session?.record.userId
  cfg.manager.options.emit('csrf.rejected', ctx, {
    reason,
    ...(session ? { ref: session.ref } : {}),
    ...(userId !== undefined ? { userId } : {}),
  })
  fail(res, next, csrfRejected(reason))
}

function isUnsafe(cfg: ResolvedExpressOptions, req: Req): boolean {
  return cfg.csrf !== null && !cfg.csrf.ignoreMethods.has(req.method ?? 'GET')
}

/**
 * Too many invalid cookies from this address: 429 with Retry-After, and the invalid cookie cleared
 * so a real user holding a stale one gets through on the next request.
 */
function throttled(
  res: ServerResponse,
  next: Next,
  name: string,
  cookieOptions: CookieOptions,
  secure: boolean,
  retryAfterS: number,
): void {
  clearCookieHeader(res, name, new Cookie(cookieOptions), secure)
  fail(
    res,
    next,
    new TetherError(
      'TETHER_RATE_LIMITED',
      'too many invalid session cookies from this address; retry later',
      {
        retryAfter: retryAfterS,
      },
    ),
  )
}

/** Starts one request: reads the cookie, loads the session (no store I/O without a valid cookie). */
function startRequest(
  cfg: ResolvedExpressOptions,
  req: Req,
  res: ServerResponse,
  next: Next,
  secure: boolean,
  path: string,
): void {
  const cookieOptions = cookieOptionsFor(cfg, req)
  // A cookie function picks the path per request: outside it, no session (as express-session).
  if (typeof cfg.cookie === 'function' && !path.startsWith(cookieOptions.path ?? '/')) return next()
  const name = cfg.name ?? defaultCookieName(cookieOptions, secure)
  const ctx = contextOf(req, path, readCookie(req.headers.cookie, name))
  const state = new RequestState(cfg, req, res, ctx, cookieOptions, secure, name)
  req.sessionStore = cfg.userStore
  cfg.manager.load(ctx).then(
    function loaded(outcome) {
      if (outcome.session === null && outcome.retryAfterS !== undefined)
        return throttled(res, next, name, cookieOptions, secure, outcome.retryAfterS)
      let refused: CsrfFailure | undefined
      try {
        state.attach(outcome.session)
        // After the load (the token is tied to the session id), before the route.
        if (cfg.csrf?.token === true && isUnsafe(cfg, req))
          refused = refuseToken(cfg.csrf, cfg.csrfTokens, req, outcome.session, secure)
      } catch (err) {
        return fail(res, next, err)
      }
      if (refused !== undefined) return rejectCsrf(cfg, ctx, res, next, refused, outcome.session)
      holdResponse(
        res,
        () => state.finish(),
        (err) => fail(res, next, err),
      )
      next()
    },
    (err) => fail(res, next, err),
  )
}

/**
 * Express middleware, a drop-in for express-session: `app.use(session({ secret, store, ... }))`.
 * Options are validated here, once; bad ones throw a `TetherError` at startup.
 */
export function session(options?: ExpressSessionOptions): SessionMiddleware {
  const cfg = resolveExpressOptions(options)
  const mountPath = typeof cfg.cookie === 'function' ? undefined : (cfg.cookie.path ?? '/')

  function sessionMiddleware(req: Req, res: ServerResponse, next: Next): void {
    if (req.session) return next()
    // Like express-session: a request outside the cookie's path gets no session.
    const path = pathnameOf(req.originalUrl ?? req.url ?? '/')
    if (mountPath !== undefined && !path.startsWith(mountPath)) return next()
    try {
      const secure = isSecure(req, cfg.proxy)
      // Before the session is loaded: a cross-site request costs a few string compares, no store I/O.
      if (cfg.csrf !== null && isUnsafe(cfg, req)) {
        const refused = refuseCrossSite(cfg.csrf, req, cfg.proxy, secure)
        if (refused !== undefined)
          return rejectCsrf(cfg, contextOf(req, path, undefined), res, next, refused)
      }
      startRequest(cfg, req, res, next, secure, path)
    } catch (err) {
      fail(res, next, err)
    }
  }

  const { manager } = cfg
  const api = {
    listUserSessions: manager.listUserSessions,
    revokeSession: manager.revokeSession,
    revokeUserSessions: manager.revokeUserSessions,
    revokeAllSessions: manager.revokeAllSessions,
    close: manager.close,
  }
  return Object.assign(sessionMiddleware, { manager: api })
}
