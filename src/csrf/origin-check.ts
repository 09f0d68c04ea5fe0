/**
 * Why an unsafe request was refused by its Fetch Metadata or `Origin`:
 * - `cross-site`, `same-site`: the browser's `Sec-Fetch-Site` says so (a sibling subdomain is
 *   same-site, and it is refused too: it is another application, maybe a compromised one);
 * - `origin-mismatch`: no `Sec-Fetch-Site`, and `Origin` names another origin;
 * - `origin-null`: no `Sec-Fetch-Site`, and `Origin: null` (sandboxed frame, cross-origin redirect).
 */
export type OriginFailure = 'cross-site' | 'same-site' | 'origin-mismatch' | 'origin-null'

/** What the origin check looks at; every field is the raw header value as the request sent it. */
export interface OriginCheckInput {
  method: string | undefined
  /** The `Sec-Fetch-Site` header. */
  secFetchSite: string | string[] | undefined
  /** The `Origin` header. */
  origin: string | string[] | undefined
  /** This server's origin as the browser sees it, e.g. `https://app.example`; undefined without a Host header. */
  selfOrigin: string | undefined
  /** Origins allowed to send unsafe requests from another site (exact `scheme://host[:port]`). */
  trustedOrigins: ReadonlySet<string>
  /** Methods never checked. @default GET, HEAD, OPTIONS, TRACE */
  ignoreMethods?: ReadonlySet<string>
}

/** The methods that must not change state (RFC 9110 §9.2.1), so the check lets them through. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * Decides from headers alone whether a browser sent this request from another site: a few string
 * compares, no I/O, so it runs before the session is loaded and a refused request costs nothing.
 *
 * With `Sec-Fetch-Site` (every current browser): `same-origin` and `none` (typed URL, bookmark)
 * pass; `same-site` and `cross-site` are refused unless `Origin` is trusted. Without it: an
 * `Origin` other than this server's, or `null`, is refused unless trusted; no `Origin` at all
 * passes, since non-browser clients and very old browsers send none (and browsers send it on
 * every cross-origin POST since 2020: Fetch §3.1 "origin header").
 */
export function checkRequestOrigin(input: OriginCheckInput): 'ok' | OriginFailure {
  const { method = 'GET', secFetchSite, origin, selfOrigin, trustedOrigins } = input
  if ((input.ignoreMethods ?? SAFE_METHODS).has(method)) return 'ok'
  const site = typeof secFetchSite === 'string' ? secFetchSite : undefined
  if (site === 'same-origin' || site === 'none') return 'ok'
  // Several Origin values (an array from a framework that keeps repeats) are no browser's: as null.
  const from = typeof origin === 'string' ? origin : origin === undefined ? undefined : 'null'
  const isTrusted = from !== undefined && trustedOrigins.has(from)
  if (site === 'same-site' || site === 'cross-site') return isTrusted ? 'ok' : site
  // No (or an unknown) Sec-Fetch-Site: an older browser or a non-browser client.
  if (from === undefined || isTrusted) return 'ok'
  if (from === 'null') return 'origin-null'
  return from === selfOrigin ? 'ok' : 'origin-mismatch'
}

/**
 * This server's origin from the request line's view: scheme, then the Host header lower-cased with
 * a default port dropped, as browsers serialise `Origin` (RFC 6454 §6.2).
 */
export function originOf(secure: boolean, host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0) return undefined
  let h = host.toLowerCase()
  const defaultPort = secure ? ':443' : ':80'
  if (h.endsWith(defaultPort)) h = h.slice(0, -defaultPort.length)
  return `${secure ? 'https' : 'http'}://${h}`
}
