import { serialize } from 'cookie'
import type { SessionState } from '../core/manager-types.js'
import { csrfAnchor } from '../core/session-rules.js'
import { checkRequestOrigin, originOf, type OriginFailure } from '../csrf/origin-check.js'
import type { ResolvedCsrfOptions } from '../csrf/options.js'
import { isNonce, type CsrfTokens } from '../csrf/token.js'
import { refusal, type TetherError } from '../errors.js'
import { DUPLICATE, readCookie } from './read-cookie.js'
import type { RequestView } from './request-view.js'

/** Why `csrf.rejected` was emitted: the origin check's reasons, or the token check's. */
export type CsrfFailure = OriginFailure | 'token-missing' | 'token-invalid'

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
  return refusal('TETHER_CSRF_REJECTED', MESSAGES[reason])
}

/** Whether the CSRF checks look at this request at all. */
export function isUnsafe(csrf: ResolvedCsrfOptions | null, method: string): boolean {
  return csrf !== null && !csrf.ignoreMethods.has(method)
}

/** The origin check of one unsafe request: undefined to go on, or why it is refused. */
export function refuseCrossSite(
  csrf: ResolvedCsrfOptions,
  view: RequestView,
): OriginFailure | undefined {
  const verdict = checkRequestOrigin({
    method: view.method,
    secFetchSite: view.header('sec-fetch-site'),
    origin: view.header('origin'),
    selfOrigin: originOf(view.secure, view.host),
    trustedOrigins: csrf.trustedOrigins,
    ignoreMethods: csrf.ignoreMethods,
  })
  return verdict === 'ok' ? undefined : verdict
}

/** The token the request presents: header first, then a body field parsed before the session (never the query). */
function presentedToken(view: RequestView): string | undefined {
  const header = view.header('x-csrf-token')
  if (header !== undefined && header.length > 0) return header
  const field = view.csrfField()
  return field !== undefined && field.length > 0 ? field : undefined
}

/** `__Host-` over https: a sibling subdomain or plain http cannot plant it (cookie tossing). */
function nonceCookieName(secure: boolean): string {
  return secure ? '__Host-csrf' : 'csrf'
}

/** The pre-session nonce the request's cookie carries, if it is a well-formed one. */
export function nonceFromCookie(
  cookieHeader: string | undefined,
  secure: boolean,
): string | undefined {
  const value = readCookie(cookieHeader, nonceCookieName(secure))
  return value !== DUPLICATE && isNonce(value) ? value : undefined
}

/** The `Set-Cookie` line of a new pre-session nonce. */
export function nonceCookieLine(secure: boolean, nonce: string): string {
  return serialize(nonceCookieName(secure), nonce, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  })
}

/**
 * The token check of one unsafe request, once the session is loaded: undefined to go on, or why
 * it is refused. A stored session needs its own token; a pre-session token (login form) counts
 * only until someone logs in, so the token of the page before login is worthless after it.
 */
export function refuseToken(
  csrf: ResolvedCsrfOptions,
  tokens: CsrfTokens,
  view: RequestView,
  session: SessionState | null,
): 'token-missing' | 'token-invalid' | undefined {
  if (session === null && !csrf.preSession) return undefined
  const token = presentedToken(view)
  if (token === undefined) return 'token-missing'
  if (
    session !== null &&
    tokens.verifySessionToken(token, csrfAnchor(session), session.record.sessionClass)
  )
    return undefined
  const isAnonymous = session === null || session.record.userId === undefined
  if (
    isAnonymous &&
    tokens.verifyPreSessionToken(token, nonceFromCookie(view.header('cookie'), view.secure))
  )
    return undefined
  return 'token-invalid'
}
