import { ServerResponse, type IncomingMessage } from 'node:http'
import { serialize } from 'cookie'
import type { SessionState } from '../../core/manager-types.js'
import { checkRequestOrigin, originOf, type OriginFailure } from '../../csrf/origin-check.js'
import type { ResolvedCsrfOptions } from '../../csrf/options.js'
import { isNonce, type CsrfTokens } from '../../csrf/token.js'
import { TetherError } from '../../errors.js'
import { DUPLICATE, readCookie } from './read-cookie.js'
import { STATE, type Session } from './session.js'

/** Why `csrf.rejected` was emitted: the origin check's reasons, or the token check's. */
export type CsrfFailure = OriginFailure | 'token-missing' | 'token-invalid'

type Req = IncomingMessage & {
  app?: { get?(name: string): unknown }
  body?: unknown
  session?: Session | null
}

/** Express's compiled "trust proxy" setting: (address, hop) => trusted. */
type TrustFn = (address: string | undefined, hop: number) => boolean

const MESSAGES: { readonly [R in CsrfFailure]: string } = {
  'cross-site': 'refused an unsafe request sent from another site (Sec-Fetch-Site: cross-site)',
  'same-site':
    'refused an unsafe request sent from another site of this domain (Sec-Fetch-Site: same-site)',
  'origin-mismatch': 'refused an unsafe request whose Origin is another site',
  'origin-null': 'refused an unsafe request with Origin: null',
  'token-missing': 'missing CSRF token: send it in the x-csrf-token header or the _csrf form field',
  'token-invalid':
    'invalid CSRF token: it belongs to another or an ended session; reload the page and try again',
}

/** The 403 error for a refused request (the message names no token, nonce or id). */
export function csrfRejected(reason: CsrfFailure): TetherError {
  return new TetherError('TETHER_CSRF_REJECTED', MESSAGES[reason])
}

/** Whether to believe X-Forwarded-Host: `proxy` if set, else Express's "trust proxy" (as `req.host`). */
function trustsProxy(req: Req, proxy: boolean | undefined): boolean {
  if (proxy !== undefined) return proxy
  const trust = req.app?.get?.('trust proxy fn') as TrustFn | undefined
  return typeof trust === 'function' && trust(req.socket.remoteAddress, 0) === true
}

/** The host the browser addressed: Host as sent, or X-Forwarded-Host's first value behind a trusted proxy. */
function hostOf(req: Req, proxy: boolean | undefined): string | undefined {
  const forwarded = req.headers['x-forwarded-host']
  if (typeof forwarded === 'string' && forwarded.length > 0 && trustsProxy(req, proxy))
    return forwarded.split(',')[0]!.trim()
  return req.headers.host
}

/** The origin check of one unsafe request: undefined to go on, or why it is refused. */
export function refuseCrossSite(
  csrf: ResolvedCsrfOptions,
  req: Req,
  proxy: boolean | undefined,
  secure: boolean,
): OriginFailure | undefined {
  const verdict = checkRequestOrigin({
    method: req.method,
    secFetchSite: req.headers['sec-fetch-site'],
    origin: req.headers.origin,
    selfOrigin: originOf(secure, hostOf(req, proxy)),
    trustedOrigins: csrf.trustedOrigins,
    ignoreMethods: csrf.ignoreMethods,
  })
  return verdict === 'ok' ? undefined : verdict
}

/** The token the request presents: header first, then a body field parsed before the session (never the query). */
function presentedToken(req: Req): string | undefined {
  const header = req.headers['x-csrf-token']
  if (typeof header === 'string' && header.length > 0) return header
  const body = req.body
  if (typeof body !== 'object' || body === null) return undefined
  const field = (body as Record<string, unknown>)['_csrf']
  return typeof field === 'string' && field.length > 0 ? field : undefined
}

/** `__Host-` over https: a sibling subdomain or plain http cannot plant it (cookie tossing). */
function nonceCookieName(secure: boolean): string {
  return secure ? '__Host-csrf' : 'csrf'
}

function nonceCookie(req: Req, secure: boolean): string | undefined {
  const value = readCookie(req.headers.cookie, nonceCookieName(secure))
  return value !== DUPLICATE && isNonce(value) ? value : undefined
}

/**
 * The token check of one unsafe request, once the session is loaded: undefined to go on, or why
 * it is refused. A stored session needs its own token; a pre-session token (login form) counts
 * only until someone logs in, so the token of the page before login is worthless after it.
 */
export function refuseToken(
  csrf: ResolvedCsrfOptions,
  tokens: CsrfTokens,
  req: Req,
  session: SessionState | null,
  secure: boolean,
): 'token-missing' | 'token-invalid' | undefined {
  if (session === null && !csrf.preSession) return undefined
  const token = presentedToken(req)
  if (token === undefined) return 'token-missing'
  if (
    session !== null &&
    tokens.verifySessionToken(token, csrfAnchor(session), session.record.sessionClass)
  )
    return undefined
  const isAnonymous = session === null || session.record.userId === undefined
  if (isAnonymous && tokens.verifyPreSessionToken(token, nonceCookie(req, secure))) return undefined
  return 'token-invalid'
}

/** Nonces issued during a request, so two calls of csrfToken(req) agree. */
const issued = new WeakMap<IncomingMessage, string>()

function setNonceCookie(res: ServerResponse, secure: boolean, nonce: string): void {
  const line = serialize(nonceCookieName(secure), nonce, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  })
  const prev = res.getHeader('Set-Cookie')
  // The prototype's setHeader: while the response is held, the instance's one refuses the application.
  ServerResponse.prototype.setHeader.call(
    res,
    'Set-Cookie',
    prev === undefined ? [line] : Array.isArray(prev) ? [...prev, line] : [String(prev), line],
  )
}

/**
 * The CSRF token for this request, to put in a form (`_csrf`) or send as header `x-csrf-token`.
 * With a stored session (or one just logged in) it is the session's token, which changes with its
 * id; before that, a pre-session token bound to an HttpOnly nonce cookie (set here if needed), so
 * login forms are protected too. Reveals nothing about the session id.
 */
export function csrfToken(req: IncomingMessage): string {
  const state = (req as Req).session?.[STATE]
  if (state === undefined)
    throw new Error('csrfToken(req) needs the tether-session middleware to run before this route')
  const { session, cfg, secure } = state
  if (!session.isNew)
    return cfg.csrfTokens.sessionToken(csrfAnchor(session), session.record.sessionClass)
  let nonce = issued.get(req) ?? nonceCookie(req, secure)
  if (nonce === undefined) {
    nonce = cfg.csrfTokens.newNonce()
    setNonceCookie(state.res, secure, nonce)
  }
  issued.set(req, nonce)
  return cfg.csrfTokens.preSessionToken(nonce)
}

/**
 * What a session's CSRF token is tied to: the session's origin reference, which login, logout and
 * regenerate change and a renewal keeps (forms open across a renewal still post).
 */
function csrfAnchor(session: SessionState): string {
  return session.record.originRef ?? session.id
}
