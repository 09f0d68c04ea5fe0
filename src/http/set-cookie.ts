import { serialize, type SerializeOptions } from 'cookie'
import type { Cookie } from './cookie.js'

/** Whether the session cookie goes out with `Secure` on this request (`'auto'` resolved). */
export function isSecureCookie(cookie: Cookie, secureRequest: boolean): boolean {
  return (
    cookie.secure === true ||
    ((cookie.secure === undefined || cookie.secure === 'auto') && secureRequest)
  )
}

/**
 * A function that warns once (TETHER_INSECURE_COOKIE), naming the fix, when a session cookie is
 * about to go out without `Secure`; for production, where that cookie can leak over plain http.
 */
export function insecureCookieWarning(): (cookie: Cookie) => void {
  let warned = false
  return function warnInsecureCookie(cookie) {
    if (warned) return
    warned = true
    const why =
      cookie.secure === false
        ? 'because "cookie.secure" is false. Set it to true or "auto" (the default), so the cookie ' +
          'cannot leak over plain http'
        : 'because the request did not arrive over https as far as Express can tell. Behind a ' +
          'TLS proxy, set app.set(\'trust proxy\', ...) (or the "proxy": true option) so ' +
          'X-Forwarded-Proto counts; otherwise serve the app over https'
    process.emitWarning(`tether-session: a session cookie went out without Secure, ${why}`, {
      code: 'TETHER_INSECURE_COOKIE',
    })
  }
}

/** Attributes of the session cookie for this request: Secure and SameSite resolved from 'auto'. */
function attributes(cookie: Cookie, secureRequest: boolean): SerializeOptions {
  const secure = isSecureCookie(cookie, secureRequest)
  let sameSite = cookie.sameSite ?? 'lax'
  // express-session's 'auto': None for requests over https, Lax otherwise.
  if (sameSite === 'auto') sameSite = secureRequest ? 'none' : 'lax'
  // Browsers drop a SameSite=None cookie that is not Secure (`secure: 'auto'` over http).
  else if (sameSite === 'none' && !secure) sameSite = 'lax'
  const out: SerializeOptions = { path: cookie.path, httpOnly: true, secure, sameSite }
  if (cookie.domain !== undefined) out.domain = cookie.domain
  if (cookie.partitioned !== undefined) out.partitioned = cookie.partitioned
  if (cookie.priority !== undefined) out.priority = cookie.priority
  return out
}

/** The `Set-Cookie` line of the session cookie; its expiry never outlives the session's absolute lifetime. */
export function sessionCookieLine(
  name: string,
  token: string,
  cookie: Cookie,
  secureRequest: boolean,
  absoluteExpiresAt: number,
): string {
  const opts = attributes(cookie, secureRequest)
  const expires = cookie.expires
  if (expires !== null) opts.expires = new Date(Math.min(expires.getTime(), absoluteExpiresAt))
  return serialize(name, token, opts)
}

/** The `Set-Cookie` line that clears the session cookie, with the same attributes it was set with. */
export function clearCookieLine(name: string, cookie: Cookie, secureRequest: boolean): string {
  const opts = attributes(cookie, secureRequest)
  opts.expires = new Date(0)
  return serialize(name, '', opts)
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
