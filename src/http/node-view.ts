import type { IncomingMessage } from 'node:http'
import { nodeHeader } from './node-response.js'
import type { RequestView } from './request-view.js'

function firstOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.split(',')[0]!.trim()
}

/**
 * The engine's view of a plain node:http request. With `proxy` (one TLS-terminating proxy the
 * application trusts), scheme, host and client address come from its X-Forwarded-* headers.
 */
export class NodeView implements RequestView {
  readonly method: string
  readonly path: string
  readonly ip: string | undefined
  readonly secure: boolean
  readonly host: string | undefined
  private readonly req: IncomingMessage

  constructor(req: IncomingMessage, proxy: boolean) {
    this.req = req
    this.method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    this.path = (q === -1 ? url : url.slice(0, q)) || '/'
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
    const forwardedFor = proxy ? nodeHeader(req.headers, 'x-forwarded-for') : undefined
    this.ip = forwardedFor?.split(',').pop()?.trim() || req.socket.remoteAddress
    this.secure =
      encrypted || (proxy && firstOf(this.header('x-forwarded-proto'))?.toLowerCase() === 'https')
    this.host = (proxy ? firstOf(this.header('x-forwarded-host')) : undefined) ?? req.headers.host
  }

  header(name: string): string | undefined {
    return nodeHeader(this.req.headers, name)
  }

  csrfField(): string | undefined {
    const body = (this.req as { body?: unknown }).body
    const field =
      typeof body === 'object' && body !== null ? (body as { _csrf?: unknown })._csrf : undefined
    return typeof field === 'string' ? field : undefined
  }
}
