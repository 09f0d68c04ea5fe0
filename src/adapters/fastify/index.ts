/**
 * `tether-session/fastify`: a drop-in for @fastify/session.
 *
 *   import fastifySession from 'tether-session/fastify'
 *   await app.register(fastifySession, { secret: process.env.SESSION_SECRET, store })
 *   app.get('/', async (request) => { request.session.views = (request.session.views ?? 0) + 1 })
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, Session } from 'fastify'
import fp from 'fastify-plugin'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import {
  checkCsrfToken,
  createHttpEngine,
  type HttpEngine,
  type ManagerApi,
} from '../../http/engine.js'
import type { RequestSession } from '../../http/request-session.js'
import type { RequestView } from '../../http/request-view.js'
import type { SessionData } from '../../index.js'
import { decryptSessionOf, type DecryptSession } from './decrypt-session.js'
import { toHttpOptions, type FastifySessionOptions } from './options.js'
import { FastifySession } from './session.js'
import { MemoryStore, Store } from './store.js'

const STATE = Symbol('tether-session.fastify')
/** No reply: a session opened by `decryptSession` sends no headers. */
type Out = FastifyReply | null
/** Set while the session commits in `onSend`. */
const COMMITTING = Symbol('tether-session.fastify.committing')
type Req = FastifyRequest & {
  [STATE]: RequestSession<Req, Out> | null
  [COMMITTING]: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The session; typed by `declare module 'tether-session' { interface SessionData { ... } }`
     * (or, as with @fastify/session, `declare module 'fastify' { interface Session { ... } }`).
     */
    session: FastifySession & Partial<SessionData> & Session
    /** The `store` option as given, or Tether's own MemoryStore without one (@fastify/session compatibility). */
    readonly sessionStore: unknown
  }
  interface FastifyInstance {
    /** Per-user listing and revocation of sessions. */
    readonly tetherSessions: ManagerApi
    /** Loads the session a cookie value names onto `request.session` of any object. */
    decryptSession: DecryptSession
  }
}

const hooks: AdapterHooks<Req, Out> = {
  keepObject: false,
  createSession: (_request, data) => new FastifySession(data),
  attach(request, session) {
    ;(request as { session: unknown }).session = session
  },
  current: (request) => request.session,
  appendSetCookie: (reply, line) => void reply?.header('set-cookie', line),
  setHeader: (reply, name, value) => void reply?.header(name, value),
  headersSent: (reply) => reply === null || reply.sent || reply.raw.headersSent,
}

/** The engine's view of a Fastify request; Fastify's `trustProxy` decides `ip`, `protocol`, `host`. */
class FastifyView implements RequestView {
  readonly method: string
  readonly path: string
  readonly ip: string | undefined
  readonly secure: boolean
  private readonly request: Req

  constructor(request: Req) {
    this.request = request
    this.method = request.method
    const url = request.url
    const q = url.indexOf('?')
    this.path = (q === -1 ? url : url.slice(0, q)) || '/'
    this.ip = request.ip
    this.secure = request.protocol === 'https'
  }

  get host(): string | undefined {
    return this.request.host || undefined
  }

  header(name: string): string | undefined {
    const value = this.request.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }

  csrfField(): string | undefined {
    const body = this.request.body
    const field =
      typeof body === 'object' && body !== null ? (body as { _csrf?: unknown })._csrf : undefined
    return typeof field === 'string' ? field : undefined
  }
}

const plugin: FastifyPluginCallback<FastifySessionOptions> = function tetherSession(
  fastify,
  options,
  done,
) {
  let engine: HttpEngine<Req, Out>
  try {
    engine = createHttpEngine<Req, Out>(toHttpOptions(options), hooks)
  } catch (err) {
    // A bad option fails `register()`/`ready()` with its TetherError, as a plugin error should.
    return done(err as Error)
  }
  const { cfg } = engine
  const sessionStore = cfg.userStore ?? cfg.manager.options.store
  fastify.decorateRequest('session', null as never)
  fastify.decorateRequest(STATE, null)
  fastify.decorateRequest(COMMITTING, false)
  fastify.decorateRequest('sessionStore', {
    getter: () => sessionStore,
  })
  fastify.decorate('tetherSessions', engine.manager)
  fastify.decorate(
    'decryptSession',
    decryptSessionOf(engine, function adopt(request, state) {
      // A request of this server: its onSend commits the session now on it.
      if (STATE in request) request[STATE] = state
    }),
  )
  fastify.addHook('onClose', () => engine.manager.close())

  fastify.addHook('onRequest', async function loadSession(request, reply) {
    const req = request as Req
    // Refusals (403, 429, 503) go to Fastify's error handler, with their headers.
    req[STATE] = await engine.start(req, reply, new FastifyView(req), {
      deferTokenCheck: true,
      // Outside the cookie's path `request.session` is an inert session, as @fastify/session's `{}`.
      inertOutsidePath: true,
    })
  })
  // The token may be a form field: checked once the body is parsed, before the handler.
  fastify.addHook('preValidation', function checkToken(request, _reply, next) {
    const state = (request as Req)[STATE]
    try {
      if (state !== null) checkCsrfToken(state)
    } catch (err) {
      return next(err as Error)
    }
    next()
  })
  fastify.addHook('onSend', async function commitSession(request, _reply, payload) {
    const req = request as Req
    // A second send while the first one's commit is under way: an async handler or hook called
    // reply.send() without returning the reply, and Fastify sent its result too. The first send
    // answers (as it does when no hook waits); this one is dropped, or it would overtake the
    // first without the session cookie.
    if (req[COMMITTING]) return new Promise<never>(function dropSecondSend() {})
    const state = req[STATE]
    // Once: if the commit fails, Fastify sends the error through these hooks again.
    req[STATE] = null
    if (state === null) return payload
    req[COMMITTING] = true
    try {
      await state.finish()
    } finally {
      req[COMMITTING] = false
    }
    return payload
  })
  done()
}

/** The plugin, wrapped with fastify-plugin so `request.session` reaches every route. */
const fastifySession = fp(plugin, { fastify: '5.x', name: 'tether-session' })

export default fastifySession
export { fastifySession, FastifySession, MemoryStore, Store }
export type { CookieOptions } from '../../http/cookie.js'
export type { FastifyMemoryStoreOptions } from './store.js'
export type { DecryptSession, FastifySessionOptions }
export type { FastifyStoreLike } from './options.js'
