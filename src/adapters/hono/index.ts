/**
 * `tether-session/hono`: Tether's sessions as Hono middleware, on the Fetch API, committed after
 * the handler and before the response leaves.
 *
 *   const app = new Hono<SessionEnv>()
 *   app.use(session({ secret, store }))
 *   app.get('/', (c) => { const s = c.get('session'); s.views = (s.views ?? 0) + 1; return c.text('hi') })
 */
import type { Context, MiddlewareHandler } from 'hono'
import { isTetherError } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { isUnsafe } from '../../http/csrf.js'
import { createHttpEngine, type ManagerApi } from '../../http/engine.js'
import { errorResponse } from '../../http/error-response.js'
import { FetchView, formCsrfField } from '../../http/fetch-view.js'
import type { HttpOptions } from '../../http/options.js'
import { SessionObject } from '../../http/session-object.js'
import type { SessionData } from '../../index.js'

/** The session Hono handlers get from `c.get('session')`. */
export type HonoSession = SessionObject & Partial<SessionData>

/** Hono's environment with Tether's variable: `new Hono<SessionEnv>()` types `c.get('session')`. */
export interface SessionEnv {
  Variables: { session: HonoSession }
}

/** Options of the Hono middleware: every adapter's, plus where the client address comes from. */
export interface HonoSessionOptions extends HttpOptions<Context> {
  /**
   * The client's address, for throttling and context binding. @default the socket's address on
   * `@hono/node-server` (`c.env.incoming`); none elsewhere, so pass e.g. `getConnInfo(c).remote.address`
   */
  clientIp?: (c: Context) => string | undefined
}

/** The middleware, with the session manager's per-user operations on `.manager`. */
export type HonoSessionMiddleware = MiddlewareHandler<SessionEnv> & { readonly manager: ManagerApi }

const hooks: AdapterHooks<Context, Context> = {
  keepObject: true,
  createSession: (_c, data) => new SessionObject(data),
  attach: (c, session) => c.set('session', session),
  current: (c) => c.get('session') as unknown,
  appendSetCookie: (c, line) => c.header('Set-Cookie', line, { append: true }),
  setHeader: (c, name, value) => c.header(name, value),
  headersSent: () => false,
}

/** @hono/node-server's socket address, when running there. */
function socketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}

/**
 * A TetherError Hono answers by itself: its default error handler sends `getResponse()`, and an
 * `app.onError` of the application sees the TetherError (`isTetherError(err)`) first.
 */
function answerable(err: unknown, c: Context): unknown {
  if (!isTetherError(err)) return err
  const answer = errorResponse(err, c.req.header('accept'))
  const response = () =>
    new Response(answer.body, { status: answer.status, headers: answer.headers })
  return Object.assign(err, { getResponse: response })
}

/** Builds the middleware; bad options throw a `TetherError` here. */
export function session(options?: HonoSessionOptions): HonoSessionMiddleware {
  const { clientIp = socketAddress, ...rest } = options ?? ({} as HonoSessionOptions)
  const engine = createHttpEngine<Context, Context>(rest, hooks)

  const middleware: MiddlewareHandler<SessionEnv> = async function tetherSession(c, next) {
    const unsafe = engine.cfg.csrf?.token === true && isUnsafe(engine.cfg.csrf, c.req.method)
    const field = await formCsrfField(c.req.raw, unsafe)
    let request: { finish(): Promise<void> } | null
    try {
      request = await engine.start(c, c, new FetchView(c.req.raw, clientIp(c), field), {
        inertOutsidePath: true,
      })
    } catch (err) {
      throw answerable(err, c)
    }
    await next()
    try {
      await request!.finish()
    } catch (err) {
      // The handler's response is replaced whole: none of its headers describe the error's body.
      ;(c as { res: Response | undefined }).res = undefined
      throw answerable(err, c)
    }
  }
  return Object.assign(middleware, { manager: engine.manager })
}
