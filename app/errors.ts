/**
 * Turns every error into a clear answer, JSON or HTML by `Accept`: what happened and what to do.
 * Never a stack trace or an internal message; unexpected errors are logged, not shown.
 */
import type { ErrorRequestHandler, Request, Response } from 'express'
import { isTetherError, type TetherError } from 'tether-session'
import { HttpError, wantsHtml } from './http.js'
import type { Logger } from './log.js'
import { errorPage } from './pages/error.js'
import type { PageContext } from './pages/layout.js'
import { loginPage } from './pages/login.js'

/** How one error is answered. */
interface ErrorView {
  status: number
  /** `error` in the JSON body: a `TETHER_*` code for Tether's errors (as `tetherErrorHandler()` sends), the app's own otherwise. */
  code: string
  message: string
  retryAfter?: number | undefined
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Please log in',
  403: 'Request refused',
  404: 'Not found',
  409: 'Please try again',
  413: 'Request too large',
  429: 'Too many attempts',
  503: 'Temporarily unavailable',
}

/** A login refused by SESSION_MAX_PER_USER under SESSION_LIMIT_POLICY=refuse: what to do about it. */
export const SESSION_LIMIT_MESSAGE =
  'You are logged in on too many devices already. Log out on one of them, or end one from ' +
  '"Your sessions" on a device where you are logged in, then try again. Unused sessions end by ' +
  'themselves after a while.'

const INTERNAL: ErrorView = {
  status: 500,
  code: 'internal',
  message: 'Something went wrong on our side. Please try again later.',
}

function tetherView(err: TetherError): ErrorView {
  switch (err.code) {
    case 'TETHER_STORE_UNAVAILABLE': {
      const retryAfter = err.retryAfter ?? 5
      return {
        status: 503,
        code: err.code,
        message: `Sessions are unavailable for a moment. Please try again in ${retryAfter} seconds.`,
        retryAfter,
      }
    }
    case 'TETHER_RATE_LIMITED': {
      const retryAfter = err.retryAfter ?? 60
      return {
        status: 429,
        code: err.code,
        message: `Too many requests from your address. Please try again in ${retryAfter} seconds.`,
        retryAfter,
      }
    }
    case 'TETHER_CSRF_REJECTED':
      return {
        status: 403,
        code: err.code,
        message:
          'This request was refused: it came from another site, or its form is out of date. ' +
          'Go back, reload the page and try again.',
      }
    case 'TETHER_SESSION_NOT_FOUND':
      return { status: 401, code: err.code, message: 'Your session has ended.' }
    case 'TETHER_VERSION_CONFLICT':
      return { status: 409, code: err.code, message: 'Please try again.' }
    case 'TETHER_SESSION_LIMIT':
      return { status: 409, code: err.code, message: SESSION_LIMIT_MESSAGE }
    case 'TETHER_INVALID_OPTION':
    case 'TETHER_WEAK_SECRET':
    case 'TETHER_SESSION_TOO_LARGE':
    case 'TETHER_INVALID_SESSION_DATA':
    case 'TETHER_NOT_SUPPORTED':
    case 'TETHER_SESSION_ID_IN_USE':
    case 'TETHER_COOKIE_TOO_LARGE':
      return INTERNAL
  }
}

/** Errors from Express's body parsers carry a 4xx `status` and are safe to report as such. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined
}

function viewOf(err: unknown): ErrorView {
  if (err instanceof HttpError) return err
  if (isTetherError(err)) return tetherView(err)
  const status = clientErrorStatus(err)
  if (status === 413) return { status, code: 'bad_request', message: 'The request is too large.' }
  if (status !== undefined) {
    return { status, code: 'bad_request', message: 'The request could not be understood.' }
  }
  return INTERNAL
}

/** Sends the answer for `view`, as a page or as `{ error, message }`. */
export function sendError(req: Request, res: Response, view: ErrorView, ctx: PageContext): void {
  res.status(view.status).set('Cache-Control', 'no-store')
  if (view.retryAfter !== undefined) res.set('Retry-After', String(view.retryAfter))
  if (!wantsHtml(req)) {
    res.json({ error: view.code, message: view.message })
    return
  }
  const page =
    view.status === 401
      ? loginPage(ctx, { notice: { kind: 'error', text: `${view.message} Please log in.` } })
      : errorPage(ctx, view.status, TITLES[view.status] ?? 'Error', view.message)
  res.type('html').send(page)
}

/**
 * The app's last middleware. `pageContext` says who is logged in, for the page's header; it must
 * cope with a request whose session never loaded (a store outage).
 */
export function errorHandler(
  logger: Logger,
  pageContext: (req: Request) => PageContext,
): ErrorRequestHandler {
  return function handleError(err: unknown, req, res, next) {
    if (res.headersSent) return next(err)
    const view = viewOf(err)
    if (view === INTERNAL) logger.error({ err, path: req.path }, 'request failed')
    sendError(req, res, view, pageContext(req))
  }
}
