import type { IncomingMessage, ServerResponse } from 'node:http'
import { isTetherError } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { createHttpEngine, type HttpEngine, type ManagerApi } from '../../http/engine.js'
import { holdResponse, installHolds, type HoldOwner } from '../../http/node-hold.js'
import { nodeHeader, nodeResponseHooks } from '../../http/node-response.js'
import type { RequestSession } from '../../http/request-session.js'
import type { RequestView } from '../../http/request-view.js'
import { invalidOption } from '../../errors.js'
import { EXPRESS_ONLY_OPTIONS, type ExpressSessionOptions } from './options.js'
import { useDictionaryProperties } from './property-mode.js'
import { Session } from './session.js'

type Req = IncomingMessage & {
  session?: Session | null
  sessionID?: string
  sessionStore?: unknown
  secure?: boolean
  ip?: string
  originalUrl?: string
  body?: unknown
  app?: { get?(name: string): unknown }
}
type Next = (err?: unknown) => void

/** The middleware function, with the session manager's per-user operations on `.manager`. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  readonly manager: ManagerApi
}

/** Express's compiled "trust proxy" setting: (address, hop) => trusted. */
type TrustFn = (address: string | undefined, hop: number) => boolean

/** express-session's `issecure`: TLS socket, or X-Forwarded-Proto when `proxy`, or Express's `req.secure`. */
function isSecure(req: Req, proxy: boolean | undefined): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true
  if (proxy === false) return false
  if (proxy !== true) return req.secure === true
  const header = String(req.headers['x-forwarded-proto'] ?? '')
  return header.split(',')[0]!.trim().toLowerCase() === 'https'
}

/** Whether to believe X-Forwarded-Host: `proxy` if set, else Express's "trust proxy" (as `req.host`). */
function trustsProxy(req: Req, proxy: boolean | undefined): boolean {
  if (proxy !== undefined) return proxy
  const trust = req.app?.get?.('trust proxy fn') as TrustFn | undefined
  return typeof trust === 'function' && trust(req.socket.remoteAddress, 0) === true
}

function pathnameOf(url: string): string {
  const q = url.indexOf('?')
  return (q === -1 ? url : url.slice(0, q)) || '/'
}

/** The engine's view of an Express request. */
class ExpressView implements RequestView {
  readonly method: string
  readonly path: string
  readonly ip: string | undefined
  readonly secure: boolean
  private readonly req: Req
  private readonly proxy: boolean | undefined

  constructor(req: Req, path: string, proxy: boolean | undefined) {
    this.req = req
    this.proxy = proxy
    this.method = req.method ?? 'GET'
    this.path = path
    this.ip = req.ip ?? req.socket.remoteAddress
    this.secure = isSecure(req, proxy)
  }

  get host(): string | undefined {
    const forwarded = this.req.headers['x-forwarded-host']
    if (typeof forwarded === 'string' && forwarded.length > 0 && trustsProxy(this.req, this.proxy))
      return forwarded.split(',')[0]!.trim()
    return this.req.headers.host
  }

  header(name: string): string | undefined {
    return nodeHeader(this.req.headers, name)
  }

  csrfField(): string | undefined {
    const body = this.req.body
    if (typeof body !== 'object' || body === null) return undefined
    const field = (body as Record<string, unknown>)['_csrf']
    return typeof field === 'string' ? field : undefined
  }
}

const hooks: AdapterHooks<Req, ServerResponse> = {
  ...nodeResponseHooks,
  keepObject: false,
  createSession: (req, data) => new Session(req, data),
  attach(req, session, id) {
    if (session === null) {
      delete req.session
      return
    }
    req.session = session as Session
    req.sessionID = id!
  },
  current: (req) => req.session,
}

/**
 * Passes an error to Express. A refusal carries its headers (`Retry-After`), set on the response
 * too, so a custom error handler that only sets the status still sends them.
 */
function fail(res: ServerResponse, next: Next, err: unknown): void {
  const headers = isTetherError(err) ? err.headers : undefined
  if (headers !== undefined && !res.headersSent) {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  }
  next(err)
}

/** The commit-before-headers hold of one request: its session is committed, or the error goes to `next`. */
class ExpressHold implements HoldOwner {
  private readonly request: RequestSession<Req, ServerResponse>
  private readonly res: ServerResponse
  private readonly next: Next

  constructor(request: RequestSession<Req, ServerResponse>, res: ServerResponse, next: Next) {
    this.request = request
    this.res = res
    this.next = next
  }

  beforeHeaders(): Promise<void> {
    return this.request.finish()
  }

  nothingToWaitFor(): boolean {
    return this.request.finishesEmpty()
  }

  onError(err: unknown): void {
    fail(this.res, this.next, err)
  }
}

/**
 * A request whose session is made when the application first touches it (see `deferrable`): its
 * `session` and `sessionID` once set, and until then what starting it needs.
 */
interface Deferred {
  readonly req: Req
  /** Until the session starts, or the application drops it before any read. */
  pending: { readonly res: ServerResponse; readonly next: Next; readonly view: ExpressView } | null
  session: unknown
  sessionID: unknown
}

/** Where a deferred request keeps its deferral (through an object derived from it too). */
const DEFERRED = Symbol('tether-session.deferred')
type DeferringReq = Req & { [DEFERRED]?: Deferred }

type Start = (deferred: Deferred) => void

/**
 * `session` and `sessionID` of a deferred request: own accessors that start its session the
 * first time either is read, and from then on read and write the deferral (as a plain property
 * would): one symbol property and two accessors added to the request (in dictionary mode by then,
 * see property-mode.ts, so each is a hash-table insert). Not enumerable, so middleware
 * that copies the request's own properties (a logger) starts no session. Assigning
 * `session` before any read (an application replacing or dropping it) starts nothing; deleting it
 * drops it (nothing starts afterwards). Own accessors, not the prototype's: a request with a
 * cookie pays nothing for them, and no prototype is shared with other middleware.
 */
function lazyProperties(startDeferred: Start): Record<'session' | 'sessionID', PropertyDescriptor> {
  function descriptor(prop: 'session' | 'sessionID'): PropertyDescriptor {
    return {
      configurable: true,
      enumerable: false,
      get(this: DeferringReq) {
        // Inherited by an object derived from the request (`Object.create(req)`): the request's.
        const deferred = this[DEFERRED]
        if (deferred === undefined) return undefined
        if (deferred.pending !== null) startDeferred(deferred)
        return deferred[prop]
      },
      set(this: DeferringReq, value: unknown) {
        const deferred = this[DEFERRED]
        if (deferred === undefined || deferred.req !== this) {
          // An object derived from the request: its own property, as assignment would make.
          Object.defineProperty(this, prop, {
            value,
            writable: true,
            configurable: true,
            enumerable: true,
          })
          return
        }
        // An application that replaces or drops its session before using it: nothing to start.
        if (prop === 'session') deferred.pending = null
        deferred[prop] = value
      },
    }
  }
  return { session: descriptor('session'), sessionID: descriptor('sessionID') }
}

/**
 * Express middleware, a drop-in for express-session: `app.use(session({ secret, store, ... }))`.
 * Options are validated here, once; bad ones throw a `TetherError` at startup.
 */
export function session(options?: ExpressSessionOptions): SessionMiddleware {
  const { proxy, key, ...rest } = (options ?? {}) as ExpressSessionOptions
  if (key !== undefined) {
    process.emitWarning('tether-session: the "key" option is deprecated; use "name"', {
      code: 'TETHER_DEPRECATED_KEY',
    })
  }
  if (proxy !== undefined && typeof proxy !== 'boolean')
    throw invalidOption(`"proxy" must be true or false; got ${JSON.stringify(proxy)}`)
  const engine: HttpEngine<Req, ServerResponse> = createHttpEngine(
    rest.name === undefined && key !== undefined ? { ...rest, name: key } : rest,
    hooks,
    EXPRESS_ONLY_OPTIONS,
  )
  const userStore = engine.cfg.userStore
  installHolds()
  function startDeferred(deferred: Deferred): void {
    const { req, pending } = deferred
    deferred.pending = null
    // `delete req.session` before any read: the application dropped it, nothing to start.
    if (
      pending === null ||
      Object.getOwnPropertyDescriptor(req, 'session')?.get !== lazy.session.get
    )
      return
    const { res, next, view } = pending
    holdResponse(res, new ExpressHold(engine.startNew(req, res, view), res, next))
  }

  const lazy = lazyProperties(startDeferred)

  function sessionMiddleware(req: Req, res: ServerResponse, next: Next): void {
    if (req.session) return next()
    // Express set `req.res` and `res.req` before giving each its new prototype: property-mode.ts.
    useDictionaryProperties(req, 'res')
    useDictionaryProperties(res, 'req')
    req.sessionStore = userStore
    try {
      const view = new ExpressView(req, pathnameOf(req.originalUrl ?? req.url ?? '/'), proxy)
      if (engine.deferrable(view)) {
        const pending = { res, next, view }
        ;(req as DeferringReq)[DEFERRED] = {
          req,
          pending,
          session: undefined,
          sessionID: undefined,
        }
        Object.defineProperties(req, lazy)
        return next()
      }
      engine.start(req, res, view).then(
        (request) => {
          if (request === null) return next()
          holdResponse(res, new ExpressHold(request, res, next))
          next()
        },
        (err) => fail(res, next, err),
      )
    } catch (err) {
      fail(res, next, err)
    }
  }

  return Object.assign(sessionMiddleware, { manager: engine.manager })
}
