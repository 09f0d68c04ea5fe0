import type { CookieOptions } from '../../http/cookie.js'
import { openSession, type HttpEngine } from '../../http/engine.js'
import type { RequestSession } from '../../http/request-session.js'
import type { RequestView } from '../../http/request-view.js'
import { preferMaxAge, settle, type Done } from './session.js'

/**
 * @fastify/session's `fastify.decryptSession`: loads the session a cookie value names onto
 * `request.session` of any object (a WebSocket upgrade, a job), with the cookie's checks (a forged
 * or expired value gets a new session and costs no store I/O). `cookieOpts` override the cookie
 * attributes of that session. Saved by `request.session.save()`, or with the response when
 * `request` is a request of this server.
 */
export interface DecryptSession {
  (cookieValue: string, request: object, cookieOpts: CookieOptions, callback: Done): void
  (cookieValue: string, request: object, callback: Done): void
  (cookieValue: string, request: object, cookieOpts?: CookieOptions): Promise<void>
}

/**
 * The view of whatever object `decryptSession` is given (a Fastify or Node request, or a plain
 * object): its headers, address and protocol when it has them. Method GET: nothing unsafe is asked.
 */
class LooseView implements RequestView {
  readonly method = 'GET'
  readonly path = '/'
  readonly ip: string | undefined
  readonly secure: boolean
  readonly host = undefined
  private readonly headers: Record<string, unknown>

  constructor(request: Record<string, unknown>) {
    const socket = request['socket'] as { remoteAddress?: string; encrypted?: boolean } | undefined
    const ip = request['ip'] ?? socket?.remoteAddress
    this.ip = typeof ip === 'string' ? ip : undefined
    this.secure = request['protocol'] === 'https' || socket?.encrypted === true
    const headers = request['headers']
    this.headers = typeof headers === 'object' && headers !== null ? (headers as never) : {}
  }

  header(name: string): string | undefined {
    const value = this.headers[name]
    return typeof value === 'string' ? value : undefined
  }

  csrfField(): undefined {
    return undefined
  }
}

/**
 * `fastify.decryptSession` for one engine. No reply goes with such a session (`out` is null);
 * `adopt` hands the loaded session to the plugin when `request` is one of its requests.
 */
export function decryptSessionOf<N, R>(
  engine: HttpEngine<N, R | null>,
  adopt: (request: N, state: RequestSession<N, R | null>) => void,
): DecryptSession {
  return function decryptSession(
    cookieValue: string,
    request: object,
    cookieOpts?: CookieOptions | Done,
    callback?: Done,
  ): Promise<void> | undefined {
    const done = typeof cookieOpts === 'function' ? cookieOpts : callback
    const cookie = typeof cookieOpts === 'object' && cookieOpts !== null ? cookieOpts : {}
    const token = typeof cookieValue === 'string' && cookieValue !== '' ? cookieValue : undefined
    const view = new LooseView(request as Record<string, unknown>)
    const native = request as N
    const work = openSession(engine, native, null, view, token, preferMaxAge(cookie)).then(
      function opened(state) {
        adopt(native, state)
      },
    )
    return settle(work, done)
  } as DecryptSession
}
