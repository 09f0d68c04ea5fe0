/**
 * CSRF defence, in one module so it can move to the adapter's own (`csrf: { token: true }` and
 * `csrfToken(req)` from 'tether-session/express') by changing only this file.
 *
 * Two layers: (1) every unsafe request, /login included, that a browser marks as cross-site
 * (Sec-Fetch-Site) or whose Origin is not this app's is refused before the session is loaded;
 * (2) an unsafe request on a logged-in session must carry the session's token (header
 * `x-csrf-token` or form field `_csrf`). The token is an HMAC of the session's ref under a key
 * derived from the secrets, so it changes at login and cannot be made without a secret.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { TetherError, type TetherEvent } from 'tether-session'
import { requestEvent } from './log.js'

/** Options of {@link createCsrf}. */
export interface CsrfOptions {
  /** The session secrets: the first makes tokens, all verify (a rotation keeps open forms valid). */
  secrets: readonly string[]
  /** Origins besides this app's own allowed to send unsafe requests. @default [] */
  trustedOrigins?: readonly string[]
  /** Paths exempt from the token (not from the Origin check). @default ['/login'] */
  tokenExempt?: readonly string[]
  /** Told about each refusal, as a `csrf.rejected` event. */
  onEvent: (event: TetherEvent) => void
}

/** The CSRF pieces the app mounts. */
export interface Csrf {
  /** Before the session middleware: refuses cross-site unsafe requests without store I/O. */
  refuseCrossSite: RequestHandler
  /** After the session and body parsers: checks the token of a logged-in session. */
  requireToken: RequestHandler
  /** The token forms and GET /csrf-token hand out for this request's session. */
  token(req: Request): string
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const ALLOWED_FETCH_SITES = new Set(['same-origin', 'none'])

function refuse(req: Request, reason: string, onEvent: CsrfOptions['onEvent']): TetherError {
  onEvent(requestEvent(req, 'csrf.rejected', { reason }))
  return new TetherError('TETHER_CSRF_REJECTED', `unsafe request refused (${reason})`)
}

/** Why an unsafe request looks cross-site, or null when it does not. */
function crossSiteReason(req: Request, trusted: ReadonlySet<string>): string | null {
  const site = req.get('sec-fetch-site')
  if (site !== undefined && !ALLOWED_FETCH_SITES.has(site)) return `sec-fetch-site ${site}`
  const origin = req.get('origin')
  if (origin === undefined) return null // not a browser, or a browser that sends Sec-Fetch-Site
  if (origin === `${req.protocol}://${req.get('host')}` || trusted.has(origin)) return null
  return 'origin'
}

function submittedToken(req: Request): string | undefined {
  const header = req.get('x-csrf-token')
  if (header !== undefined) return header
  const body = req.body as { _csrf?: unknown } | undefined
  return typeof body?._csrf === 'string' ? body._csrf : undefined
}

/** Builds the CSRF middleware pair and the token function from the session secrets. */
export function createCsrf(opts: CsrfOptions): Csrf {
  const keys = opts.secrets.map(function deriveKey(secret) {
    return Buffer.from(hkdfSync('sha256', secret, 'tether-reference-app', 'csrf-form-token', 32))
  })
  const trusted = new Set(opts.trustedOrigins ?? [])
  const exempt = new Set(opts.tokenExempt ?? ['/login'])

  function tokenWith(key: Buffer, ref: string): Buffer {
    return createHmac('sha256', key).update(ref).digest()
  }

  function token(req: Request): string {
    return tokenWith(keys[0]!, req.session.ref).toString('base64url')
  }

  function isValid(req: Request, submitted: string): boolean {
    const given = Buffer.from(submitted, 'base64url')
    return keys.some(function matches(key) {
      const expected = tokenWith(key, req.session.ref)
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
  }

  function refuseCrossSite(req: Request, _res: Response, next: NextFunction): void {
    if (SAFE_METHODS.has(req.method)) return next()
    const reason = crossSiteReason(req, trusted)
    next(reason === null ? undefined : refuse(req, reason, opts.onEvent))
  }

  function requireToken(req: Request, _res: Response, next: NextFunction): void {
    if (SAFE_METHODS.has(req.method) || exempt.has(req.path)) return next()
    // Only a logged-in session has anything to protect; the app stores no anonymous sessions.
    if ((req.session as { userId?: unknown }).userId === undefined) return next()
    const submitted = submittedToken(req)
    if (submitted === undefined) return next(refuse(req, 'token missing', opts.onEvent))
    next(isValid(req, submitted) ? undefined : refuse(req, 'token mismatch', opts.onEvent))
  }

  return { refuseCrossSite, requireToken, token }
}
