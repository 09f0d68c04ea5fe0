import type { FastifyRequest } from 'fastify'
import { invalidOption } from '../../errors.js'
import type { HttpOptions } from '../../http/options.js'
import type { ExpressStoreLike } from '../../stores/compat.js'
import type { SessionStore } from '../../stores/types.js'
import { preferMaxAge } from './session.js'

/**
 * A @fastify/session store: callback `get`/`set`/`destroy`, the same API as an express-session
 * store, so Tether wraps it the same way (`fromExpressSessionStore`: hashed keys, its own records).
 */
export interface FastifyStoreLike {
  get(sessionId: string, callback: (err: unknown, session?: unknown) => void): void
  set(sessionId: string, session: unknown, callback: (err?: unknown) => void): void
  destroy(sessionId: string, callback: (err?: unknown) => void): void
}

/** Options of the plugin: @fastify/session's names where they differ, and every Tether option. */
export interface FastifySessionOptions extends Omit<HttpOptions<FastifyRequest>, 'store'> {
  /** @fastify/session's name for `name`. @default '__Host-sid' over https, 'sid' otherwise (@fastify/session: 'sessionId') */
  cookieName?: string
  /** @fastify/session's name for `genid`: a custom session id generator, validated and signed. */
  idGenerator?: (request: FastifyRequest) => string
  /** A Tether store, or a @fastify/session (or express-session) store, wrapped. @default a bounded MemoryStore */
  store?: SessionStore | ExpressStoreLike | FastifyStoreLike
}

/** @fastify/session's option names, mapped onto Tether's; its signer objects are refused. */
export function toHttpOptions(options: FastifySessionOptions): HttpOptions<FastifyRequest> {
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
  // A @fastify/session store has the express-session store API, which the engine wraps.
  const mapped = { ...rest } as HttpOptions<FastifyRequest>
  if (typeof mapped.cookie === 'object' && mapped.cookie !== null)
    mapped.cookie = preferMaxAge(mapped.cookie)
  if (cookieName !== undefined && mapped.name === undefined) mapped.name = cookieName
  if (idGenerator !== undefined && mapped.genid === undefined) mapped.genid = idGenerator
  return mapped
}
