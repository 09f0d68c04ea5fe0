import type { ServerResponse } from 'node:http'

type Call = { fn: (...args: unknown[]) => unknown; args: unknown[] }

/**
 * Holds a response's first `writeHead`/`write`/`end` until `beforeHeaders` settles, then replays
 * them in order. The session is committed before any header leaves, so a store failure can still
 * become a 503 instead of a 200 whose session write was lost (express-session reports it after).
 * On failure the held calls are dropped and `onError` answers instead.
 */
export function holdResponse(
  res: ServerResponse,
  beforeHeaders: () => Promise<void>,
  onError: (err: unknown) => void,
): void {
  // Kept unbound on purpose: replayed with .apply(res) and put back exactly as they were.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = { writeHead: res.writeHead, write: res.write, end: res.end }
  const ownSetHeader = Object.prototype.hasOwnProperty.call(res, 'setHeader')
  const held: Call[] = []
  let started = false

  function restore(): void {
    res.writeHead = original.writeHead
    res.write = original.write
    res.end = original.end
    if (!ownSetHeader) delete (res as Partial<ServerResponse>).setHeader
  }

  function release(): void {
    restore()
    for (const call of held) call.fn.apply(res, call.args)
    held.length = 0
  }

  function fail(err: unknown): void {
    restore()
    held.length = 0
    onError(err)
  }

  function hold(fn: (...args: unknown[]) => unknown, args: unknown[]): void {
    held.push({ fn, args })
    if (started) return
    started = true
    // To the application the headers are gone now, as they would be without the hold.
    if (!ownSetHeader) res.setHeader = headersAlreadySent
    // Headers already on the wire (flushHeaders): nothing can be changed, so just go on.
    if (res.headersSent) return release()
    beforeHeaders().then(release, fail)
  }

  res.writeHead = function heldWriteHead(this: ServerResponse, ...args: unknown[]) {
    hold(original.writeHead as Call['fn'], args)
    return this
  }
  res.write = function heldWrite(...args: unknown[]) {
    hold(original.write as Call['fn'], args)
    return true
  } as ServerResponse['write']
  res.end = function heldEnd(this: ServerResponse, ...args: unknown[]) {
    hold(original.end as Call['fn'], args)
    return this
  } as ServerResponse['end']
}

function headersAlreadySent(): never {
  throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
    code: 'ERR_HTTP_HEADERS_SENT',
  })
}
