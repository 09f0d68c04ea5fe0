import { DUPLICATE, readCookie } from './read-cookie.js'
import type { RequestView } from './request-view.js'

/**
 * How a request carries its session token: the cookie, or (with the `bearer` option, for clients
 * that cannot keep cookies) `Authorization: Bearer <token>`, answered in `X-Session-Token`.
 */
export type Transport = 'cookie' | 'bearer'

/** The token a request presents and the transport it came by. */
export interface PresentedToken {
  transport: Transport
  /** The raw token; '' when malformed (two different cookies of the name, a bad Bearer value). */
  token: string | undefined
}

/** `Authorization: Bearer <token68>` (RFC 6750 §2.1); the scheme is case-insensitive. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * Reads the session token. With `bearer` on, an `Authorization: Bearer` header wins over any
 * cookie, and a request without a token asks for header transport with `X-Session-Transport:
 * bearer`; another Authorization scheme (Basic) is the application's and is left alone. A browser
 * never adds either header to a cross-site request by itself, so a bearer request needs no CSRF
 * defence.
 */
export function presentedToken(
  view: RequestView,
  bearer: boolean,
  cookieName: string,
): PresentedToken {
  if (bearer) {
    const authorization = view.header('authorization')
    if (authorization !== undefined && /^bearer(?: |$)/i.test(authorization)) {
      const match = BEARER.exec(authorization)
      return { transport: 'bearer', token: match === null ? '' : match[1] }
    }
    if (view.header('x-session-transport')?.toLowerCase() === 'bearer')
      return { transport: 'bearer', token: undefined }
  }
  const raw = readCookie(view.header('cookie'), cookieName)
  // A duplicated cookie name is treated as a malformed token: no session, one event.
  return { transport: 'cookie', token: raw === DUPLICATE ? '' : raw }
}
