import { ServerResponse } from 'node:http'
import { serialize, type SerializeOptions } from 'cookie'
import type { Cookie } from './cookie.js'

/** Attributes of the session cookie for this request: Secure and SameSite resolved from 'auto'. */
function attributes(cookie: Cookie, secureRequest: boolean): SerializeOptions {
  const secure =
    cookie.secure === true ||
    ((cookie.secure === undefined || cookie.secure === 'auto') && secureRequest)
  let sameSite = cookie.sameSite ?? 'lax'
  // express-session's 'auto': None for requests over https, Lax otherwise.
  if (sameSite === 'auto') sameSite = secureRequest ? 'none' : 'lax'
  const out: SerializeOptions = { path: cookie.path, httpOnly: true, secure, sameSite }
  if (cookie.domain !== undefined) out.domain = cookie.domain
  if (cookie.partitioned !== undefined) out.partitioned = cookie.partitioned
  if (cookie.priority !== undefined) out.priority = cookie.priority
  return out
}

function append(res: ServerResponse, value: string): void {
  // A response that sets or clears the session cookie must never be stored by a shared cache,
  // or the next visitor would receive this user's cookie. Overrides what the route set.
  ServerResponse.prototype.setHeader.call(res, 'Cache-Control', 'no-store')
  const prev = res.getHeader('Set-Cookie')
  // The prototype's setHeader: while the response is held, the instance's one refuses the application.
  ServerResponse.prototype.setHeader.call(
    res,
    'Set-Cookie',
    prev === undefined ? [value] : Array.isArray(prev) ? [...prev, value] : [String(prev), value],
  )
}

/** Sets the session cookie; its expiry never outlives the session's absolute lifetime. */
export function setCookieHeader(
  res: ServerResponse,
  name: string,
  token: string,
  cookie: Cookie,
  secureRequest: boolean,
  absoluteExpiresAt: number,
): void {
  const opts = attributes(cookie, secureRequest)
  const expires = cookie.expires
  if (expires !== null) opts.expires = new Date(Math.min(expires.getTime(), absoluteExpiresAt))
  append(res, serialize(name, token, opts))
}

/** Clears the session cookie with the same attributes it was set with. */
export function clearCookieHeader(
  res: ServerResponse,
  name: string,
  cookie: Cookie,
  secureRequest: boolean,
): void {
  const opts = attributes(cookie, secureRequest)
  opts.expires = new Date(0)
  append(res, serialize(name, '', opts))
}

/** The session cookie's name: `__Host-sid` when the cookie is Secure, host-only and on `/`, else `sid`. */
export function defaultCookieName(
  cookie: { secure?: boolean | 'auto'; path?: string; domain?: string },
  secureRequest: boolean,
): string {
  const secure = cookie.secure === true || (cookie.secure !== false && secureRequest)
  return secure && (cookie.path ?? '/') === '/' && cookie.domain === undefined
    ? '__Host-sid'
    : 'sid'
}
