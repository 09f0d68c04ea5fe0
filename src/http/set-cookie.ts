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
  return cookieLine(name, token, opts)
}

/** The `Set-Cookie` line that clears the session cookie, with the same attributes it was set with. */
export function clearCookieLine(name: string, cookie: Cookie, secureRequest: boolean): string {
  const opts = attributes(cookie, secureRequest)
  opts.expires = new Date(0)
  return cookieLine(name, '', opts)
}

/** A value `serialize` would write as it is: nothing to percent-encode, nothing to refuse. */
const PLAIN_VALUE = /^[A-Za-z0-9._~-]*$/

/** The parts of a line around its value and expiry, by name and attributes (few per app). */
const parts = new Map<string, { head: string; tail: string }>()
const MAX_PARTS = 64

/**
 * `serialize(name, value, opts)` of the `cookie` package, with the parts that do not change from
 * one response to the next (name, Domain, Path before the expiry; HttpOnly, Secure, Partitioned,
 * Priority, SameSite after it) built once by `serialize` itself and kept. A session cookie goes
 * out on every write of a sealed session and after every renewal; serialising it whole cost
 * 6-8 µs (a copy of the options, a 350-character value percent-encoded and matched). Values that
 * are not plain (never a Tether token), and options Tether never sets (`maxAge`, `encode`), go to
 * `serialize` as before. Pinned to `serialize`'s
 * output by a property test (test/http/set-cookie.test.ts).
 */
export function cookieLine(name: string, value: string, opts: SerializeOptions): string {
  const fast = PLAIN_VALUE.test(value) && opts.maxAge === undefined && opts.encode === undefined
  if (!fast) return serialize(name, value, opts)
  const key = `${name}\n${opts.domain}\n${opts.path}\n${opts.httpOnly}\n${opts.secure}\n${opts.partitioned}\n${opts.priority}\n${opts.sameSite}`
  let known = parts.get(key)
  if (known === undefined) {
    const { expires: _expires, ...rest } = opts
    // serialize() checks the name and every attribute here (it throws on a bad one).
    const attrs = serialize(name, '', rest).slice(name.length + 1)
    const before: SerializeOptions = {}
    if (rest.domain !== undefined) before.domain = rest.domain
    if (rest.path !== undefined) before.path = rest.path
    // Domain and Path come before Expires in serialize()'s order, everything else after it.
    const split = serialize(name, '', before).length - name.length - 1
    known = { head: attrs.slice(0, split), tail: attrs.slice(split) }
    if (parts.size >= MAX_PARTS) parts.clear()
    parts.set(key, known)
  }
  const expires = opts.expires === undefined ? '' : `; Expires=${utcString(opts.expires)}`
  return `${name}=${value}${known.head}${expires}${known.tail}`
}

let lastSecond = NaN
let lastUtc = ''

/** `date.toUTCString()`, kept for the second it names (every line of that second has it). */
function utcString(date: Date): string {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new TypeError(`option expires is invalid: ${String(date)}`)
  const second = Math.floor(ms / 1000)
  if (second !== lastSecond) {
    lastUtc = date.toUTCString()
    lastSecond = second
  }
  return lastUtc
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
