import type { IncomingMessage, ServerResponse } from 'node:http'
import { isTetherError } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { createHttpEngine, type HttpEngine, type ManagerApi } from '../../http/engine.js'
import { holdResponse } from '../../http/node-hold.js'
import { nodeHeader, nodeResponseHooks } from '../../http/node-response.js'
import type { RequestSession } from '../../http/request-session.js'
import type { RequestView } from '../../http/request-view.js'
import { invalidOption } from '../../errors.js'
import { EXPRESS_ONLY_OPTIONS, type ExpressSessionOptions } from './options.js'
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

function started(
  res: ServerResponse,
  next: Next,
  request: RequestSession<Req, ServerResponse> | null,
): void {
  if (request === null) return next()
  holdResponse(
    res,
    () => request.finish(),
    (err) => fail(res, next, err),
  )
  next()
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

  function sessionMiddleware(req: Req, res: ServerResponse, next: Next): void {
    if (req.session) return next()
    req.sessionStore = userStore
    try {
      const view = new ExpressView(req, pathnameOf(req.originalUrl ?? req.url ?? '/'), proxy)
      engine.start(req, res, view).then(
        (request) => started(res, next, request),
        (err) => fail(res, next, err),
      )
    } catch (err) {
      fail(res, next, err)
    }
  }

  return Object.assign(sessionMiddleware, { manager: engine.manager })
}
