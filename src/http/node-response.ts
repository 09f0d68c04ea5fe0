import type { ServerResponse } from 'node:http'
import type { AdapterHooks } from './adapter-hooks.js'
import { setHeaderHeld } from './node-hold.js'

type ResponseHooks = Pick<
  AdapterHooks<unknown, ServerResponse>,
  'appendSetCookie' | 'setHeader' | 'headersSent'
>

/**
 * Response hooks for node:http's `ServerResponse` (Express, Koa and plain node:http). They set
 * headers below the hold: while the response is held for the commit, `setHeader` refuses the
 * application.
 */
export const nodeResponseHooks: ResponseHooks = {
  appendSetCookie(res, line) {
    const prev = res.getHeader('Set-Cookie')
    setHeaderHeld(
      res,
      'Set-Cookie',
      prev === undefined ? [line] : Array.isArray(prev) ? [...prev, line] : [String(prev), line],
    )
  },
  setHeader(res, name, value) {
    setHeaderHeld(res, name, value)
  },
  headersSent(res) {
    return res.headersSent
  },
}

/** A node:http request header as one string: repeated values joined, as Node joins most of them. */
export function nodeHeader(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}
