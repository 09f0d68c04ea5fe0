/**
 * `tether-session/fastify`: a drop-in for @fastify/session.
 *
 *   import fastifySession from 'tether-session/fastify'
 *   await app.register(fastifySession, { secret: process.env.SESSION_SECRET, store })
 *   app.get('/', async (request) => { request.session.views = (request.session.views ?? 0) + 1 })
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { invalidOption } from '../../errors.js'
import type { AdapterHooks } from '../../http/adapter-hooks.js'
import { checkCsrfToken, createHttpEngine, type ManagerApi } from '../../http/engine.js'
import type { HttpOptions } from '../../http/options.js'
import type { RequestSession } from '../../http/request-session.js'
import type { RequestView } from '../../http/request-view.js'
import type { SessionData } from '../../index.js'
import { FastifySession } from './session.js'

/** Options of the plugin: @fastify/session's names where they differ, and every Tether option. */
export interface FastifySessionOptions extends HttpOptions<FastifyRequest> {
  /** @fastify/session's name for `name`. @default '__Host-sid' over https, 'sid' otherwise (@fastify/session: 'sessionId') */
  cookieName?: string
  /** @fastify/session's name for `genid`: a custom session id generator, validated and signed. */
  idGenerator?: (request: FastifyRequest) => string
}

const STATE = Symbol('tether-session.fastify')
type Req = FastifyRequest & { [STATE]: RequestSession<Req, FastifyReply> | null }

declare module 'fastify' {
  interface FastifyRequest {
    /** The session; typed by `declare module 'tether-session' { interface SessionData { ... } }`. */
    session: FastifySession & Partial<SessionData>
    /** The `store` option as given (@fastify/session compatibility). */
    readonly sessionStore: unknown
  }
  interface FastifyInstance {
    /** Per-user listing and revocation of sessions. */
    readonly tetherSessions: ManagerApi
  }
}

const hooks: AdapterHooks<Req, FastifyReply> = {
  keepObject: false,
  createSession: (_request, data) => new FastifySession(data),
  attach(request, session) {
    ;(request as { session: unknown }).session = session
  },
  current: (request) => request.session,
  appendSetCookie: (reply, line) => void reply.header('set-cookie', line),
  setHeader: (reply, name, value) => void reply.header(name, value),
  headersSent: (reply) => reply.sent || reply.raw.headersSent,
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

/** @fastify/session's option names, mapped onto Tether's; its signer objects are refused. */
function toHttpOptions(options: FastifySessionOptions): HttpOptions<FastifyRequest> {
  const { cookieName, idGenerator, ...rest } = options as FastifySessionOptions &
    Record<string, unknown>
  const secret = rest.secret as unknown
  if (typeof secret === 'object' && secret !== null && !Array.isArray(secret))
    throw invalidOption(
      '"secret" must be a string or an array of strings of at least 32 bytes: Tether signs its ' +
        'own cookies, so a signer object ({ sign, unsign }) is not accepted',
    )
  for (const dropped of ['algorithm', 'cookiePrefix'] as const) {
    if (rest[dropped] !== undefined) {
      process.emitWarning(
        `tether-session/fastify: "${dropped}" is ignored: Tether's cookies are HMAC-SHA256 tokens of their own format`,
        { code: 'TETHER_IGNORED_OPTION' },
      )
      delete rest[dropped]
    }
  }
  const mapped: HttpOptions<FastifyRequest> = { ...rest }
  if (cookieName !== undefined && mapped.name === undefined) mapped.name = cookieName
  if (idGenerator !== undefined && mapped.genid === undefined) mapped.genid = idGenerator
  return mapped
}

const plugin: FastifyPluginCallback<FastifySessionOptions> = function tetherSession(
  fastify,
  options,
  done,
) {
  const engine = createHttpEngine<Req, FastifyReply>(toHttpOptions(options), hooks)
  const { userStore } = engine.cfg
  fastify.decorateRequest('session', null as never)
  fastify.decorateRequest(STATE, null)
  fastify.decorateRequest('sessionStore', {
    getter: () => userStore,
  })
  fastify.decorate('tetherSessions', engine.manager)
  fastify.addHook('onClose', () => engine.manager.close())

  fastify.addHook('onRequest', async function loadSession(request, reply) {
    const req = request as Req
    // Refusals (403, 429, 503) go to Fastify's error handler, with their headers.
    req[STATE] = await engine.start(req, reply, new FastifyView(req), { deferTokenCheck: true })
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
    const state = req[STATE]
    // Once: if the commit fails, Fastify sends the error through these hooks again.
    req[STATE] = null
    if (state !== null) await state.finish()
    return payload
  })
  done()
}

/** The plugin, wrapped with fastify-plugin so `request.session` reaches every route. */
const fastifySession = fp(plugin, { fastify: '5.x', name: 'tether-session' })

export default fastifySession
export { fastifySession, FastifySession }
export type { CookieOptions } from '../../http/cookie.js'
