/**
 * What the HTTP engine knows about one request. Each adapter builds one from its framework's
 * request, applying that framework's trust-proxy rules to `ip`, `secure` and `host`.
 */
export interface RequestView {
  /** Upper-case method, e.g. `POST`. */
  readonly method: string
  /** The path without the query string, as the application was mounted to see it. */
  readonly path: string
  /** The client's address (an IPv4-mapped IPv6 address may be given as is; the core unwraps it). */
  readonly ip: string | undefined
  /** The request reached the application over https. */
  readonly secure: boolean
  /** The host the browser addressed: `Host`, or `X-Forwarded-Host` behind a trusted proxy. */
  readonly host: string | undefined
  /** A request header by lower-case name; undefined when absent. */
  header(name: string): string | undefined
  /** The `_csrf` form field, when the body was parsed before the session was loaded. */
  csrfField(): string | undefined
}
