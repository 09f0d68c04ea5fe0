/**
 * `tether-session/node`: sessions for a plain node:http server, no framework.
 *
 *   const sessions = createSessions({ secret, store })
 *   const session = await sessions.load(req)        // rejects with a TetherError to refuse
 *   session.views = (session.views ?? 0) + 1
 *   await session.commit(res)                        // before the response's headers
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidOption, isTetherError } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { createHttpEngine, type ManagerApi } from '../../http/engine.js'
import { dropBodyHeaders } from '../../http/body-headers.js'
import { errorResponse } from '../../http/error-response.js'
import { holdResponse, installHolds } from '../../http/node-hold.js'
import { nodeResponseHooks } from '../../http/node-response.js'
import type { HttpOptions } from '../../http/options.js'
import { NodeView } from '../../http/node-view.js'
import { SessionObject, stateOf } from '../../http/session-object.js'
import type { SessionData } from '../../index.js'

/** Options of `createSessions`: every adapter's, plus how to read a request behind a proxy. */
export interface NodeSessionOptions extends HttpOptions<IncomingMessage> {
  /**
   * Behind one TLS-terminating proxy you trust: the scheme, host and client address come from its
   * `X-Forwarded-Proto`, `X-Forwarded-Host` and the last `X-Forwarded-For` entry. @default false
   */
  proxy?: boolean
}

/** Where a request's headers go: straight to the response once it is known, held until then. */
class NodeTarget {
  res: ServerResponse | undefined
  readonly cookies: string[] = []
  readonly headers: Array<[string, string]> = []

  /** From now on headers go to `res`; those set before it are written now. */
  bind(res: ServerResponse): void {
    this.res = res
    for (const [name, value] of this.headers) nodeResponseHooks.setHeader(res, name, value)
    for (const line of this.cookies) nodeResponseHooks.appendSetCookie(res, line)
    this.headers.length = 0
    this.cookies.length = 0
  }
}

/** The session of one request: its data as own properties, Tether's methods, and `commit(res)`. */
export class NodeSession extends SessionObject {
  /**
   * Writes the session and puts its cookie on `res`; call it before the response's headers go out.
   * Runs once (a second call, or the automatic one of `load(req, res)`, does nothing more).
   */
  commit(res?: ServerResponse): Promise<void> {
    const request = stateOf(this)
    if (res !== undefined) (request.out as NodeTarget).bind(res)
    return request.finish()
  }
}

type Req = IncomingMessage & { session?: SessionObject | null }

const hooks: AdapterHooks<Req, NodeTarget> = {
  keepObject: true,
  createSession: (_req, data) => new NodeSession(data),
  attach(req, session) {
    req.session = session
  },
  current: (req) => req.session,
  appendSetCookie(target, line) {
    if (target.res !== undefined) nodeResponseHooks.appendSetCookie(target.res, line)
    else target.cookies.push(line)
  },
  setHeader(target, name, value) {
    if (target.res !== undefined) nodeResponseHooks.setHeader(target.res, name, value)
    else target.headers.push([name, value])
  },
  headersSent: (target) => target.res?.headersSent === true,
}

/** Tether's sessions for node:http. */
export interface NodeSessions {
  /**
   * The request's session (also on `req.session`). Rejects with a `TetherError` to refuse the
   * request (403 cross-site, 429 throttled, 503 store down): answer it with `sendError`. With
   * `res`, the session is committed by itself before the response's headers leave, and a failed
   * commit is answered with its error instead of the response.
   */
  load(req: IncomingMessage, res?: ServerResponse): Promise<NodeSession & Partial<SessionData>>
  /** Answers a `TetherError` (status, `Retry-After`, JSON or HTML body); false for any other error. */
  sendError(err: unknown, req: IncomingMessage, res: ServerResponse): boolean
  /** Per-user listing and revocation. */
  readonly manager: ManagerApi
}

/** Headers a refused request's answer must carry, until it is given its response. */
const refusalHeaders = new WeakMap<object, NodeTarget>()

/** Answers a TetherError on a node:http response; false for other errors or a sent response. */
export function sendError(err: unknown, req: IncomingMessage, res: ServerResponse): boolean {
  if (!isTetherError(err) || res.headersSent) return false
  refusalHeaders.get(err)?.bind(res)
  dropBodyHeaders(res)
  const answer = errorResponse(err, req.headers.accept)
  res.writeHead(answer.status, {
    ...answer.headers,
    'Content-Length': Buffer.byteLength(answer.body),
  })
  res.end(answer.body)
  return true
}

/** Builds Tether's sessions for node:http; bad options throw a `TetherError` here. */
export function createSessions(options?: NodeSessionOptions): NodeSessions {
  const { proxy = false, ...rest } = options ?? ({} as NodeSessionOptions)
  if (typeof proxy !== 'boolean')
    throw invalidOption(`"proxy" must be true or false; got ${JSON.stringify(proxy)}`)
  const engine = createHttpEngine<Req, NodeTarget>(rest, hooks)
  installHolds()

  async function load(req: Req, res?: ServerResponse) {
    const target = new NodeTarget()
    if (res !== undefined) target.bind(res)
    let request: { finish(): Promise<void>; finishesEmpty(): boolean } | null
    try {
      request = await engine.start(req, target, new NodeView(req, proxy), {
        inertOutsidePath: true,
      })
    } catch (err) {
      // A refusal may clear the cookie (a throttled invalid one): its answer carries that too.
      if (isTetherError(err) && res === undefined) refusalHeaders.set(err, target)
      throw err
    }
    if (res !== undefined)
      holdResponse(res, {
        beforeHeaders: () => request!.finish(),
        nothingToWaitFor: () => request!.finishesEmpty(),
        onError: (err) => {
          if (!sendError(err, req, res)) res.destroy(err as Error)
        },
      })
    return req.session as NodeSession & Partial<SessionData>
  }

  return { load, sendError, manager: engine.manager }
}
