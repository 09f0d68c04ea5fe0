import { ServerResponse } from 'node:http'
import { dropBodyHeaders } from './body-headers.js'

/** What a hold waits for, and who answers when it fails. */
export interface HoldOwner {
  /** Settles before any header leaves: the session commit. */
  beforeHeaders(): Promise<void>
  /** Answers instead of the held response when `beforeHeaders` rejected. */
  onError(err: unknown): void
}

type Method = (this: ServerResponse, ...args: unknown[]) => unknown

const OPEN = 0
const HOLDING = 1
const RELEASED = 2

/** One response's hold: its state, the calls held, and the methods it wrapped. */
interface Hold {
  state: typeof OPEN | typeof HOLDING | typeof RELEASED
  readonly owner: HoldOwner
  readonly writeHead: Method
  readonly write: Method
  readonly end: Method
  /** The setHeader to put back on release: the response's own, or the prototype's. */
  readonly setHeader: Method
  /** Held calls, in order: method, then its arguments. */
  held: Array<Method | unknown[]> | null
}

/**
 * Holds a response's first `writeHead`/`write`/`end` until `owner.beforeHeaders()` settles, then
 * replays them in order. The session is committed before any header leaves, so a store failure
 * can still become a 503 instead of a 200 whose session write was lost (express-session reports it
 * after). On failure the held calls are dropped, with every header the route set for the body it
 * was going to send, and `owner.onError` answers instead: whichever handler writes the error
 * starts clean.
 *
 * The wrappers are three small closures over one state object (a property of its own on the
 * response would cost more: adding one to a ServerResponse is a slow transition), and stay
 * installed after release, passing calls straight through: restoring the old methods would unhook wrappers that middleware
 * mounted later put on top (on-headers, compression). While held, `write()` returns true; the
 * hold lasts one store round trip.
 */
export function holdResponse(res: ServerResponse, owner: HoldOwner): void {
  const hold: Hold = {
    state: OPEN,
    owner,
    /* eslint-disable @typescript-eslint/unbound-method -- kept unbound: called with .apply(res) */
    writeHead: res.writeHead as Method,
    write: res.write as Method,
    end: res.end as Method,
    setHeader: res.setHeader as Method,
    /* eslint-enable @typescript-eslint/unbound-method */
    held: null,
  }
  res.writeHead = function heldWriteHead(this: ServerResponse, ...args: unknown[]) {
    if (holds(this, hold, hold.writeHead, args)) return this
    return hold.writeHead.apply(this, args)
  } as ServerResponse['writeHead']
  res.write = function heldWrite(this: ServerResponse, ...args: unknown[]) {
    if (holds(this, hold, hold.write, args)) return true
    return hold.write.apply(this, args)
  } as ServerResponse['write']
  res.end = function heldEnd(this: ServerResponse, ...args: unknown[]) {
    if (holds(this, hold, hold.end, args)) return this
    return hold.end.apply(this, args)
  } as ServerResponse['end']
}

/** Returns true when the call was held; false when it must go straight through. */
function holds(res: ServerResponse, hold: Hold, fn: Method, args: unknown[]): boolean {
  if (hold.state === RELEASED) return false
  if (hold.held === null) hold.held = [fn, args]
  else hold.held.push(fn, args)
  if (hold.state === HOLDING) return true
  hold.state = HOLDING
  // To the application the headers are gone now, as they would be without the hold.
  res.setHeader = headersAlreadySent
  // Headers already on the wire (flushHeaders): nothing can be changed, so just go on.
  if (res.headersSent) release(res, hold)
  else
    hold.owner.beforeHeaders().then(
      () => release(res, hold),
      (err: unknown) => fail(res, hold, err),
    )
  return true
}

function unblockSetHeader(res: ServerResponse, hold: Hold): void {
  hold.state = RELEASED
  // Only our own blocker goes; a wrapper someone put on top stays. Assigned back, not deleted:
  // deleting a property turns the response into a slow dictionary-mode object.
  if (res.setHeader === headersAlreadySent) res.setHeader = hold.setHeader as typeof res.setHeader
}

function release(res: ServerResponse, hold: Hold): void {
  unblockSetHeader(res, hold)
  const held = hold.held ?? []
  hold.held = null
  for (let i = 0; i < held.length; i += 2) {
    ;(held[i] as Method).apply(res, held[i + 1] as unknown[])
  }
}

function fail(res: ServerResponse, hold: Hold, err: unknown): void {
  unblockSetHeader(res, hold)
  hold.held = null
  dropBodyHeaders(res)
  // The route's caching rules were for its content: an error about this request's session is
  // never to be cached, whatever handler answers it. (The prototype's setHeader, as in
  // set-cookie.ts: a wrapper installed over the blocker would still refuse.)
  ServerResponse.prototype.setHeader.call(res, 'Cache-Control', 'no-store')
  hold.owner.onError(err)
}

function headersAlreadySent(): never {
  throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
    code: 'ERR_HTTP_HEADERS_SENT',
  })
}
