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
import { BODY_HEADERS } from '../../http/body-headers.js'
import { isUnsafe } from '../../http/csrf.js'
import { createHttpEngine, type ManagerApi } from '../../http/engine.js'
import { errorResponse } from '../../http/error-response.js'
import { FetchView, formCsrfField } from '../../http/fetch-view.js'
import type { HttpOptions } from '../../http/options.js'
import { handled, SessionObject, stateOf } from '../../http/session-object.js'
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

/**
 * `c.get('session')`. A TetherError from a method that reaches the store (`login()` while the
 * store is down) gets Tether's answer too: Hono's error handler would otherwise send it as a 500.
 */
class HonoSessionObject extends SessionObject {
  override save(): Promise<void> {
    return handled(answered(this, super.save()))
  }
  override reload(): Promise<void> {
    return handled(answered(this, super.reload()))
  }
  override destroy(): Promise<void> {
    return handled(answered(this, super.destroy()))
  }
  override regenerate(): Promise<void> {
    return handled(answered(this, super.regenerate()))
  }
  override login(userId: string, opts?: { class?: string }): Promise<void> {
    return answered(this, super.login(userId, opts))
  }
  override logout(opts?: { clearSiteData?: boolean }): Promise<void> {
    return answered(this, super.logout(opts))
  }
  override reauthenticated(): Promise<void> {
    return answered(this, super.reauthenticated())
  }
  override update(fn: Parameters<SessionObject['update']>[0]): Promise<void> {
    return answered(this, super.update(fn))
  }
}

/** `work`, with a TetherError it rejects with made answerable by Hono (see `answerable`). */
function answered(session: SessionObject, work: Promise<void>): Promise<void> {
  const c = stateOf(session).native as Context
  return work.catch(function answerInHono(err: unknown) {
    throw answerable(err, c)
  })
}

const hooks: AdapterHooks<Context, Context> = {
  keepObject: true,
  createSession: (_c, data) => new HonoSessionObject(data),
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
 * Drops the handler's response before an error replaces it. Its body's headers stay in Hono's
 * prepared headers, which `c.json()` in `app.onError` and the default handler both build on, so
 * they are removed there (`finalized` reset: Hono's `c.header` needs a response once it is set).
 */
function dropResponse(c: Context): void {
  ;(c as { res: Response | undefined }).res = undefined
  c.finalized = false
  for (const name of BODY_HEADERS) c.header(name, undefined)
  // The route's caching rules were for its content; an error about the session is never cached.
  c.header('Cache-Control', 'no-store')
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
      dropResponse(c)
      throw answerable(err, c)
    }
  }
  return Object.assign(middleware, { manager: engine.manager })
}
