import { ServerResponse } from 'node:http'
import { dropBodyHeaders } from './body-headers.js'

/** What a hold waits for, and who answers when it fails. */
export interface HoldOwner {
  /** Settles before any header leaves: the session commit. */
  beforeHeaders(): Promise<void>
  /** Answers instead of the held response when `beforeHeaders` rejected. */
  onError(err: unknown): void
  /** True when there is nothing to wait for at the first write: the response goes straight on. */
  nothingToWaitFor?(): boolean
}

type Method = (this: ServerResponse, ...args: unknown[]) => unknown
type Methods = Record<'writeHead' | 'write' | 'end' | 'setHeader', Method>

const OPEN = 0
const HOLDING = 1
const RELEASED = 2

/** One response's hold: its state, the calls held, and the methods below the hold. */
interface Hold {
  state: typeof OPEN | typeof HOLDING | typeof RELEASED
  readonly owner: HoldOwner
  /** What the hold calls on: the prototype's methods, or the response's own ones it wrapped. */
  readonly below: Methods
  /** Held calls, in order: method, then its arguments. */
  held: Array<Method | unknown[]> | null
}

/** Where a response keeps its hold: the one property the hold adds to it. */
const HOLD = Symbol('tether-session.hold')
type Holding = ServerResponse & { [HOLD]?: Hold }

function holdOf(res: ServerResponse): Hold | undefined {
  return (res as Holding)[HOLD]
}

/** `ServerResponse.prototype`'s methods as they were before the hold wrapped them (once, on first use). */
let original: Methods | undefined

/**
 * Holds a response's first `writeHead`/`write`/`end` until `owner.beforeHeaders()` settles, then
 * replays them in order. The session is committed before any header leaves, so a store failure
 * can still become a 503 instead of a 200 whose session write was lost (express-session reports it
 * after). On failure the held calls are dropped, with every header the route set for the body it
 * was going to send, and `owner.onError` answers instead: whichever handler writes the error
 * starts clean. While held, `setHeader` throws as it would once headers are sent, and `write()`
 * returns true; the hold lasts one store round trip.
 *
 * The wrappers sit on `ServerResponse.prototype`, installed once, and find a response's hold in
 * one symbol property; a response without one passes straight through. One property, not four
 * wrapped methods: on Express, whose requests and responses each get a hidden class of their own
 * (it sets their prototype), every property added to one builds a new hidden class, and that
 * showed as a large part of the middleware's cost and of its garbage collection. (Not a WeakMap:
 * its entries point back at their key through the owner, and such entries kept every response
 * alive past the young generation, which cost more than the property.) Middleware that wraps the response's own
 * methods (compression, on-headers) still reaches the hold through the prototype, whichever order
 * it was mounted in (the wrappers are installed when the adapter is created). A response that does not inherit from `ServerResponse` gets the same wrappers
 * as its own properties.
 */
export function holdResponse(res: ServerResponse, owner: HoldOwner): void {
  const proto = installHolds()
  const own = !(res instanceof ServerResponse)
  const below = own ? methodsOf(res) : proto
  ;(res as Holding)[HOLD] = { state: OPEN, owner, below, held: null }
  if (own) Object.assign(res, wrappers)
}

/** True when the response has a hold: its first write waits for the session commit. */
export function isHeld(res: ServerResponse): boolean {
  return holdOf(res) !== undefined
}

/** Sets a header whether or not the response is held: the hold's own writes (the session cookie). */
export function setHeaderHeld(res: ServerResponse, name: string, value: string | string[]): void {
  const below =
    holdOf(res)?.below ?? original ?? methodsOf(ServerResponse.prototype as ServerResponse)
  below.setHeader.call(res, name, value)
}

function methodsOf(target: ServerResponse): Methods {
  /* eslint-disable @typescript-eslint/unbound-method -- kept unbound: called with .call(res) */
  return {
    writeHead: target.writeHead as Method,
    write: target.write as Method,
    end: target.end as Method,
    setHeader: target.setHeader as Method,
  }
  /* eslint-enable @typescript-eslint/unbound-method */
}

/**
 * A wrapper of one writing method: held calls answer as the method would (`write` returns true,
 * the others the response), every other call goes to the method below.
 */
function writing(name: 'writeHead' | 'write' | 'end', whileHeld: 'response' | true): Method {
  return function held(this: ServerResponse, ...args: unknown[]) {
    const hold = holdOf(this)
    const below = (hold?.below ?? original!)[name]
    if (hold !== undefined && holds(this, hold, below, args))
      return whileHeld === true ? true : this
    return below.apply(this, args)
  }
}

const wrappers: Methods = {
  writeHead: writing('writeHead', 'response'),
  write: writing('write', true),
  end: writing('end', 'response'),
  setHeader: function heldSetHeader(this: ServerResponse, ...args: unknown[]) {
    const hold = holdOf(this)
    // To the application the headers are gone once the hold holds, as they would be without it.
    if (hold !== undefined && hold.state === HOLDING) headersAlreadySent()
    return (hold?.below ?? original!).setHeader.apply(this, args)
  },
}

/**
 * Puts the wrappers on `ServerResponse.prototype`, once; returns the methods they wrap. Adapters
 * call it when they are created, before any request: middleware that keeps a response's `write`
 * to call later must get the wrapper, not the method below it.
 */
export function installHolds(): Methods {
  if (original !== undefined) return original
  const proto = ServerResponse.prototype as ServerResponse
  original = methodsOf(proto)
  Object.assign(proto, wrappers)
  return original
}

/** Returns true when the call was held; false when it must go straight through. */
function holds(res: ServerResponse, hold: Hold, fn: Method, args: unknown[]): boolean {
  if (hold.state === RELEASED) return false
  if (hold.state === OPEN && hold.owner.nothingToWaitFor?.() === true) {
    hold.state = RELEASED
    return false
  }
  if (hold.held === null) hold.held = [fn, args]
  else hold.held.push(fn, args)
  if (hold.state === HOLDING) return true
  hold.state = HOLDING
  // Headers already on the wire (flushHeaders): nothing can be changed, so just go on.
  if (res.headersSent) release(res, hold)
  else
    hold.owner.beforeHeaders().then(
      () => release(res, hold),
      (err: unknown) => fail(res, hold, err),
    )
  return true
}

function release(res: ServerResponse, hold: Hold): void {
  hold.state = RELEASED
  const held = hold.held ?? []
  hold.held = null
  for (let i = 0; i < held.length; i += 2) {
    ;(held[i] as Method).apply(res, held[i + 1] as unknown[])
  }
}

function fail(res: ServerResponse, hold: Hold, err: unknown): void {
  hold.state = RELEASED
  hold.held = null
  dropBodyHeaders(res)
  // The route's caching rules were for its content: an error about this request's session is
  // never to be cached, whatever handler answers it. (Below any wrapper: one installed over the
  // hold by other middleware may still refuse.)
  hold.below.setHeader.call(res, 'Cache-Control', 'no-store')
  hold.owner.onError(err)
}

function headersAlreadySent(): never {
  throw Object.assign(new Error('Cannot set headers after they are sent to the client'), {
    code: 'ERR_HTTP_HEADERS_SENT',
  })
}
