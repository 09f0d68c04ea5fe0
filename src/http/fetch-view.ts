import type { RequestView } from './request-view.js'

/** The engine's view of a Fetch API `Request` (Hono, Next.js route handlers, Bun, Deno). */
export class FetchView implements RequestView {
  readonly method: string
  readonly path: string
  readonly ip: string | undefined
  readonly secure: boolean
  readonly host: string | undefined
  private readonly headers: Headers
  private readonly field: string | undefined

  constructor(request: Request, ip: string | undefined, csrfField?: string) {
    const url = new URL(request.url)
    this.method = request.method
    this.path = url.pathname
    this.ip = ip
    this.secure = url.protocol === 'https:'
    this.host = url.host
    this.headers = request.headers
    this.field = csrfField
  }

  header(name: string): string | undefined {
    return this.headers.get(name) ?? undefined
  }

  csrfField(): string | undefined {
    return this.field
  }
}

/**
 * The `_csrf` field of a form post, read from a copy of the body, only when the token check will
 * need it (an unsafe request without an `x-csrf-token` header): others never pay for a body read.
 */
export async function formCsrfField(
  request: Request,
  unsafe: boolean,
): Promise<string | undefined> {
  if (!unsafe || request.headers.has('x-csrf-token') || request.body === null) return undefined
  const type = request.headers.get('content-type') ?? ''
  if (
    !type.startsWith('application/x-www-form-urlencoded') &&
    !type.startsWith('multipart/form-data')
  )
    return undefined
  try {
    const field = (await request.clone().formData()).get('_csrf')
    return typeof field === 'string' ? field : undefined
  } catch {
    return undefined // A malformed body: no token, so the check refuses it with 403.
  }
}

/** Response headers gathered during a request, written onto the `Response` at commit. */
export class PendingHeaders {
  readonly cookies: string[] = []
  readonly headers: Array<[string, string]> = []
  sent = false

  /** A copy of `response` (its headers may be immutable) with the gathered headers added. */
  applyTo(response: Response): Response {
    this.sent = true
    if (this.cookies.length === 0 && this.headers.length === 0) return response
    const headers = new Headers(response.headers)
    for (const [name, value] of this.headers) headers.set(name, value)
    for (const line of this.cookies) headers.append('Set-Cookie', line)
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    })
  }
}
