import { invalidOption } from '../errors.js'
import { SAFE_METHODS } from './origin-check.js'

/** The `csrf` option's object form. */
export interface CsrfOptions {
  /**
   * Require a CSRF token (header `x-csrf-token` or form field `_csrf`, from `csrfToken(req)`) on
   * every unsafe request, on top of the `Origin` / `Sec-Fetch-Site` check.
   * @default false
   */
  token?: boolean
  /**
   * With `token`: unsafe requests without a session (a login form) need a pre-session token, which
   * stops login CSRF. `false` exempts them from the token; the origin check still applies.
   * @default true
   */
  preSession?: boolean
  /**
   * Origins that may send unsafe requests from another site, exactly `scheme://host[:port]`
   * (e.g. a sibling subdomain's front end: `'https://www.example.com'`).
   * @default []
   */
  trustedOrigins?: string[]
  /** Methods neither check looks at; they must not change state. @default ['GET', 'HEAD', 'OPTIONS', 'TRACE'] */
  ignoreMethods?: string[]
}

/** The `csrf` option after validation. */
export interface ResolvedCsrfOptions {
  readonly token: boolean
  readonly preSession: boolean
  readonly trustedOrigins: ReadonlySet<string>
  readonly ignoreMethods: ReadonlySet<string>
}

const KEYS = ['token', 'preSession', 'trustedOrigins', 'ignoreMethods']
const METHOD = /^[A-Za-z]{1,32}$/

/** Validates the `csrf` option once, at startup; null means CSRF protection is off (`csrf: false`). */
export function resolveCsrfOptions(value: unknown): ResolvedCsrfOptions | null {
  if (value === false) return null
  const o: CsrfOptions = value === undefined || value === true ? {} : (value as CsrfOptions)
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw invalidOption(
      `"csrf" must be true, false or an object like { token: true }; got ${JSON.stringify(value)}`,
    )
  }
  for (const key of Object.keys(o)) {
    if (!KEYS.includes(key))
      throw invalidOption(`"csrf.${key}" is not an option; "csrf" accepts ${KEYS.join(', ')}`)
  }
  for (const flag of ['token', 'preSession'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean')
      throw invalidOption(`"csrf.${flag}" must be true or false; got ${JSON.stringify(o[flag])}`)
  }
  return Object.freeze({
    token: o.token ?? false,
    preSession: o.preSession ?? true,
    trustedOrigins: new Set(listOf('trustedOrigins', o.trustedOrigins, []).map(checkOrigin)),
    ignoreMethods: new Set(listOf('ignoreMethods', o.ignoreMethods, [...SAFE_METHODS]).map(upper)),
  })
}

function listOf(name: string, value: unknown, fallback: string[]): unknown[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value))
    throw invalidOption(`"csrf.${name}" must be an array of strings; got ${JSON.stringify(value)}`)
  return value as unknown[]
}

function checkOrigin(value: unknown, i: number): string {
  let origin: string | undefined
  try {
    const url = typeof value === 'string' ? new URL(value) : undefined
    if (url?.protocol === 'https:' || url?.protocol === 'http:') origin = url.origin
  } catch {
    // Not a URL at all: reported below.
  }
  if (origin !== undefined && origin === value) return origin
  const hint = origin === undefined ? '' : ` (did you mean ${JSON.stringify(origin)}?)`
  throw invalidOption(
    `"csrf.trustedOrigins[${i}]" must be an origin: http(s), host and optional port, like ` +
      `"https://app.example.com", without path or trailing slash; got ${JSON.stringify(value)}${hint}`,
  )
}

function upper(value: unknown, i: number): string {
  if (typeof value !== 'string' || !METHOD.test(value))
    throw invalidOption(
      `"csrf.ignoreMethods[${i}]" must be an HTTP method name like "GET"; got ${JSON.stringify(value)}`,
    )
  return value.toUpperCase()
}
