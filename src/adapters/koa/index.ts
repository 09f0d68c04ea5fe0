/**
 * `tether-session/koa`: Tether's sessions as Koa middleware, as `ctx.session`, committed after
 * the downstream middleware. `ctx.session = null` ends the session, as in koa-session.
 *
 *   app.use(session({ secret, store }))
 *   app.use((ctx) => { ctx.session.views = (ctx.session.views ?? 0) + 1 })
 */
import type { Context, Middleware } from 'koa'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { BODY_HEADERS } from '../../http/body-headers.js'
import { createHttpEngine, type ManagerApi } from '../../http/engine.js'
import { errorResponse } from '../../http/error-response.js'
import type { HttpOptions } from '../../http/options.js'
import type { RequestView } from '../../http/request-view.js'
import { copyData, SessionObject } from '../../http/session-object.js'
import { isTetherError } from '../../errors.js'
import type { SessionData } from '../../index.js'

/** `ctx.session` in Koa. */
export type KoaSession = SessionObject & Partial<SessionData>

declare module 'koa' {
  interface ExtendableContext {
    /** The session (null once set to null); typed by `declare module 'tether-session' { interface SessionData { ... } }`. */
    session: KoaSession | null
  }
}

/** Options of the Koa middleware: every adapter's (`unset` is 'destroy', as `ctx.session = null` is in koa-session). */
export type KoaSessionOptions = HttpOptions<Context>

/** The middleware, with the session manager's per-user operations on `.manager`. */
export type KoaSessionMiddleware = Middleware & { readonly manager: ManagerApi }

const SLOT = Symbol('tether-session.koa')
type Ctx = Context & { [SLOT]?: SessionObject | null }

/**
 * `ctx.session`, defined once on the app's context prototype: reading gives the session; `null`
 * drops it (ended at the end of the request); an object replaces its data.
 */
const sessionProperty: PropertyDescriptor = {
  configurable: true,
  get(this: Ctx) {
    return this[SLOT]
  },
  set(this: Ctx, value: unknown) {
    const current = this[SLOT]
    if (value === null || value === undefined) this[SLOT] = null
    else if (current && typeof value === 'object' && value !== current) {
      for (const key of Object.keys(current)) if (key !== 'cookie') delete (current as never)[key]
      copyData(current, value as Record<string, unknown>)
    }
  },
}
const prepared = new WeakSet<object>()

const hooks: AdapterHooks<Ctx, Ctx> = {
  keepObject: true,
  createSession: (_ctx, data) => new SessionObject(data),
  attach(ctx, session) {
    const proto = Object.getPrototypeOf(ctx) as object
    if (!prepared.has(proto)) {
      Object.defineProperty(proto, 'session', sessionProperty)
      prepared.add(proto)
    }
    ctx[SLOT] = session
  },
  current: (ctx) => ctx[SLOT],
  appendSetCookie: (ctx, line) => ctx.append('Set-Cookie', line),
  setHeader: (ctx, name, value) => ctx.set(name, value),
  headersSent: (ctx) => ctx.headerSent,
}

/** The engine's view of a Koa request; Koa's `app.proxy` decides `ip`, `secure` and `host`. */
class KoaView implements RequestView {
  readonly method: string
  readonly path: string
  readonly ip: string | undefined
  readonly secure: boolean
  private readonly ctx: Ctx

  constructor(ctx: Ctx) {
    this.ctx = ctx
    this.method = ctx.method
    this.path = ctx.path
    this.ip = ctx.ip || undefined
    this.secure = ctx.secure
  }

  get host(): string | undefined {
    return this.ctx.host || undefined
  }

  header(name: string): string | undefined {
    return this.ctx.get(name) || undefined
  }

  csrfField(): string | undefined {
    const body = (this.ctx.request as { body?: unknown }).body
    const field =
      typeof body === 'object' && body !== null ? (body as { _csrf?: unknown })._csrf : undefined
    return typeof field === 'string' ? field : undefined
  }
}

/** Answers a TetherError the way every Tether adapter does: status, headers, JSON or HTML body. */
function answer(ctx: Ctx, err: unknown): boolean {
  if (!isTetherError(err) || ctx.headerSent) return false
  const response = errorResponse(err, ctx.get('accept'))
  // The downstream response is replaced: none of its body's headers describe this one.
  for (const name of BODY_HEADERS) ctx.remove(name)
  ctx.status = response.status
  ctx.set(response.headers)
  ctx.body = response.body
  return true
}

/** Builds the middleware; bad options throw a `TetherError` here. */
export function session(options?: KoaSessionOptions): KoaSessionMiddleware {
  const engine = createHttpEngine<Ctx, Ctx>(
    { unset: 'destroy', ...options } as KoaSessionOptions,
    hooks,
  )

  const middleware: Middleware = async function tetherSession(ctx: Ctx, next) {
    let request: { finish(): Promise<void> } | null
    try {
      request = await engine.start(ctx, ctx, new KoaView(ctx), { inertOutsidePath: true })
    } catch (err) {
      if (answer(ctx, err)) return
      throw err
    }
    await next()
    try {
      await request!.finish()
    } catch (err) {
      if (!answer(ctx, err)) throw err
    }
  }
  return Object.assign(middleware, { manager: engine.manager })
}
