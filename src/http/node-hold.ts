import { ServerResponse } from 'node:http'
import { dropBodyHeaders } from './body-headers.js'

type Call = { fn: (...args: unknown[]) => unknown; args: unknown[] }

/**
 * Holds a response's first `writeHead`/`write`/`end` until `beforeHeaders` settles, then replays
 * them in order. The session is committed before any header leaves, so a store failure can still
 * become a 503 instead of a 200 whose session write was lost (express-session reports it after).
 * On failure the held calls are dropped, with every header the route set for the body it was
 * going to send, and `onError` answers instead: whichever handler writes the error starts clean.
 *
 * The wrappers stay installed after release and pass calls straight through: restoring the old
 * methods would unhook wrappers that middleware mounted later put on top (on-headers, compression).
 * While held, `write()` returns true; the hold lasts one store round trip.
 */
export function holdResponse(
  res: ServerResponse,
  beforeHeaders: () => Promise<void>,
  onError: (err: unknown) => void,
): void {
  // Kept unbound on purpose: called with .apply(res).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = { writeHead: res.writeHead, write: res.write, end: res.end }
  const ownSetHeader = Object.prototype.hasOwnProperty.call(res, 'setHeader')
  const held: Call[] = []
  let state: 'open' | 'holding' | 'released' = 'open'

  function unblockSetHeader(): void {
    // Only our own blocker is removed; a wrapper someone put on top stays.
    if (!ownSetHeader && res.setHeader === headersAlreadySent) {
      delete (res as Partial<ServerResponse>).setHeader
    }
  }

  function release(): void {
    state = 'released'
    unblockSetHeader()
    for (const call of held) call.fn.apply(res, call.args)
    held.length = 0
  }

  function fail(err: unknown): void {
    state = 'released'
    unblockSetHeader()
    held.length = 0
    dropBodyHeaders(res)
    // The route's caching rules were for its content: an error about this request's session is
    // never to be cached, whatever handler answers it. (The prototype's setHeader, as in
    // set-cookie.ts: a wrapper installed over the blocker would still refuse.)
    ServerResponse.prototype.setHeader.call(res, 'Cache-Control', 'no-store')
    onError(err)
  }

  /** Returns true when the call was held; false when it must go straight through. */
  function hold(fn: (...args: unknown[]) => unknown, args: unknown[]): boolean {
    if (state === 'released') return false
    held.push({ fn, args })
    if (state === 'holding') return true
    state = 'holding'
    // To the application the headers are gone now, as they would be without the hold.
    if (!ownSetHeader) res.setHeader = headersAlreadySent
    // Headers already on the wire (flushHeaders): nothing can be changed, so just go on.
    if (res.headersSent) release()
    else beforeHeaders().then(release, fail)
    return true
  }

  res.writeHead = function heldWriteHead(this: ServerResponse, ...args: unknown[]) {
    if (hold(original.writeHead as Call['fn'], args)) return this
    return (original.writeHead as Call['fn']).apply(this, args)
  } as ServerResponse['writeHead']
  res.write = function heldWrite(this: ServerResponse, ...args: unknown[]) {
    if (hold(original.write as Call['fn'], args)) return true
    return (original.write as Call['fn']).apply(this, args)
  } as ServerResponse['write']
  res.end = function heldEnd(this: ServerResponse, ...args: unknown[]) {
    if (hold(original.end as Call['fn'], args)) return this
    return (original.end as Call['fn']).apply(this, args)
  } as ServerResponse['end']
}

function headersAlreadySent(): never {
  throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
    code: 'ERR_HTTP_HEADERS_SENT',
  })
}
