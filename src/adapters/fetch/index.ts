/**
 * `tether-session/fetch`: sessions for any server built on the Fetch API's `Request` and
 * `Response`: Next.js route handlers, `Bun.serve`, `Deno.serve`.
 *
 *   const sessions = createSessions({ secret, store })
 *   export const POST = sessions.route(async (request, session) => {
 *     session.views = (session.views ?? 0) + 1
 *     return Response.json({ views: session.views })
 *   })
 *
 * or by hand: `const session = await sessions.load(request)` ... `return session.commit(response)`.
 */
import { isTetherError } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { isUnsafe } from '../../http/csrf.js'
import { createHttpEngine, type ManagerApi } from '../../http/engine.js'
import { errorResponse } from '../../http/error-response.js'
import { FetchView, formCsrfField, PendingHeaders } from '../../http/fetch-view.js'
import type { HttpOptions } from '../../http/options.js'
import { SessionObject, stateOf } from '../../http/session-object.js'
import type { SessionData } from '../../index.js'

/** Options of `createSessions`: every adapter's, plus where the client address comes from. */
export interface FetchSessionOptions extends HttpOptions<Request> {
  /**
   * The client's address, for throttling and context binding (a `Request` does not carry it):
   * e.g. Bun's `server.requestIP(request)?.address`. @default none (throttling then counts nobody)
   */
  clientIp?: (request: Request) => string | undefined
}

/** The session of one request: its data as own properties, Tether's methods, and `commit()`. */
export class FetchSession extends SessionObject {
  /** Writes the session and returns `response` with its cookie (a copy: Response headers may be immutable). */
  async commit(response: Response): Promise<Response> {
    const request = stateOf(this)
    await request.finish()
    return (request.out as PendingHeaders).applyTo(response)
  }
}

/** Each request's session (a `Request` has no place of its own for it). */
const sessions = new WeakMap<Request, SessionObject>()

const hooks: AdapterHooks<Request, PendingHeaders> = {
  keepObject: true,
  createSession: (_request, data) => new FetchSession(data),
  attach(request, session) {
    if (session === null) sessions.delete(request)
    else sessions.set(request, session)
  },
  current: (request) => sessions.get(request),
  appendSetCookie: (out, line) => void out.cookies.push(line),
  setHeader: (out, name, value) => void out.headers.push([name, value]),
  headersSent: (out) => out.sent,
}

/** Headers a refused request's answer must carry (the cleared cookie of a throttled client). */
const refusalHeaders = new WeakMap<object, PendingHeaders>()

/** Tether's sessions for Fetch API servers. */
export interface FetchSessions {
  /** The request's session; rejects with a `TetherError` to refuse it (see `errorResponse`). */
  load(request: Request): Promise<FetchSession & Partial<SessionData>>
  /**
   * Wraps a handler: loads the session, commits it onto the handler's response, and answers
   * Tether's refusals and store failures with their status and body.
   */
  route<A extends unknown[]>(
    handler: (
      request: Request,
      session: FetchSession & Partial<SessionData>,
      ...rest: A
    ) => Response | Promise<Response>,
  ): (request: Request, ...rest: A) => Promise<Response>
  /** Tether's answer to a `TetherError` (status, `Retry-After`, JSON or HTML body). */
  errorResponse(err: unknown, request: Request): Response | undefined
  readonly manager: ManagerApi
}

/** Builds Tether's sessions for Fetch API servers; bad options throw a `TetherError` here. */
export function createSessions(options?: FetchSessionOptions): FetchSessions {
  const { clientIp, ...rest } = options ?? ({} as FetchSessionOptions)
  const engine = createHttpEngine<Request, PendingHeaders>(rest, hooks)

  async function load(request: Request) {
    const unsafe = engine.cfg.csrf?.token === true && isUnsafe(engine.cfg.csrf, request.method)
    const field = await formCsrfField(request, unsafe)
    const view = new FetchView(request, clientIp?.(request), field)
    const pending = new PendingHeaders()
    try {
      await engine.start(request, pending, view, { inertOutsidePath: true })
    } catch (err) {
      // A refusal may clear the cookie (a throttled invalid one): its answer carries that too.
      if (isTetherError(err)) refusalHeaders.set(err, pending)
      throw err
    }
    return sessions.get(request) as FetchSession & Partial<SessionData>
  }

  function toResponse(err: unknown, request: Request): Response | undefined {
    if (!isTetherError(err)) return undefined
    const answer = errorResponse(err, request.headers.get('accept') ?? undefined)
    const response = new Response(answer.body, { status: answer.status, headers: answer.headers })
    return refusalHeaders.get(err)?.applyTo(response) ?? response
  }

  function route<A extends unknown[]>(
    handler: (
      request: Request,
      session: FetchSession & Partial<SessionData>,
      ...rest: A
    ) => Response | Promise<Response>,
  ) {
    return async function tetherRoute(request: Request, ...args: A): Promise<Response> {
      try {
        const session = await load(request)
        return await session.commit(await handler(request, session, ...args))
      } catch (err) {
        const answer = toResponse(err, request)
        if (answer === undefined) throw err
        return answer
      }
    }
  }

  return { load, route, errorResponse: toResponse, manager: engine.manager }
}
