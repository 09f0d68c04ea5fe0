import type { TetherError } from '../errors.js'

/** A complete answer to a refused or failed request, for any framework to send. */
export interface ErrorResponse {
  status: number
  headers: Record<string, string>
  body: string
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
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
 * Tether's answer to one of its errors: the status, `Retry-After` where it applies, `no-store`, and
 * a small JSON body `{ error: code, message }`, or an HTML page when the client accepts
 * `text/html` (browsers on navigations and form posts; `fetch()` sends `*\/*`). Never a stack.
 * Tether's messages never hold a token, an id or a secret (STYLE §5), so they can be shown.
 */
export function errorResponse(err: TetherError, accept: string | undefined): ErrorResponse {
  const headers: Record<string, string> = {
    ...err.headers,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  }
  if (typeof accept === 'string' && accept.includes('text/html')) {
    headers['Content-Type'] = 'text/html; charset=utf-8'
    return { status: err.status, headers, body: page(err) }
  }
  headers['Content-Type'] = 'application/json; charset=utf-8'
  return {
    status: err.status,
    headers,
    body: JSON.stringify({ error: err.code, message: err.message }),
  }
}
