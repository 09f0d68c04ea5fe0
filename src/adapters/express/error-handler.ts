import type { IncomingMessage, ServerResponse } from 'node:http'
import { isTetherError, type TetherError } from '../../errors.js'
import { dropBodyHeaders } from './body-headers.js'

type Next = (err?: unknown) => void

/** An Express error-handling middleware (four parameters, as Express recognises them). */
export type TetherErrorHandler = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: Next,
) => void

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Browsers ask for HTML on navigations and form posts; `fetch()` sends `*\/*` and gets JSON. */
function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept
  return typeof accept === 'string' && accept.includes('text/html')
}

function page(err: TetherError): string {
  const title = err.status === 403 ? 'Forbidden' : err.status === 503 ? 'Try again' : 'Error'
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>${err.status} ${title}</title>
<h1>${title}</h1>
<p>${escapeHtml(err.message)}</p>
<p><small>${err.code}</small></p>
`
}

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
    res.statusCode = err.status
    for (const [name, value] of Object.entries(err.headers ?? {})) res.setHeader(name, value)
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // Tether's messages never hold a token, an id or a secret (STYLE §5), so they can be shown.
    const html = wantsHtml(req)
    const body = html ? page(err) : JSON.stringify({ error: err.code, message: err.message })
    res.setHeader('Content-Type', `${html ? 'text/html' : 'application/json'}; charset=utf-8`)
    res.setHeader('Content-Length', Buffer.byteLength(body))
    res.end(body)
  }
}
