import type { IncomingMessage, ServerResponse } from 'node:http'
import { isTetherError } from '../../errors.js'
import { dropBodyHeaders } from '../../http/body-headers.js'
import { errorResponse } from '../../http/error-response.js'

type Next = (err?: unknown) => void

/** An Express error-handling middleware (four parameters, as Express recognises them). */
export type TetherErrorHandler = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
) => void

/**
 * Answers Tether's errors (`TETHER_CSRF_REJECTED` 403, `TETHER_STORE_UNAVAILABLE` 503 with
 * `Retry-After`, ...) with their status and a small JSON body `{ error: code, message }`, or an
 * HTML page when the client accepts `text/html`; never a stack. Other errors go to the next
 * handler. Mount it after your routes: `app.use(tetherErrorHandler())`.
 */
export function tetherErrorHandler(): TetherErrorHandler {
  return function tetherErrors(err, req, res, next) {
    if (!isTetherError(err) || res.headersSent) return next(err)
    // Whatever the route set for its own body (Content-Length, ETag, ...) would corrupt this one.
    dropBodyHeaders(res)
    const answer = errorResponse(err, req.headers.accept)
    res.statusCode = answer.status
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
    res.setHeader('Content-Length', Buffer.byteLength(answer.body))
    res.end(answer.body)
  }
}
