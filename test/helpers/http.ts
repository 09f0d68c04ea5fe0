import {
  request,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
  createServer,
} from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** Set-Cookie headers, as sent. */
  setCookies: string[]
}

/** Starts a real server on 127.0.0.1, port 0; closed by the caller (t.after). */
export async function listen(
  handler: RequestListener | { listen: Server['listen'] },
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server =
    typeof handler === 'function' ? createServer(handler) : (handler as unknown as Server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * One request with raw headers (fetch refuses some of the hostile headers the tests send).
 * `headers` values may be arrays; latin1 strings reach the wire byte for byte.
 */
export function send(
  port: number,
  opts: {
    method?: string
    path?: string
    headers?: Record<string, string | string[]>
    body?: string
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const sc = res.headers['set-cookie']
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            setCookies: sc ?? [],
          })
        })
      },
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** `name=value` of the first Set-Cookie with that name, for the next request's Cookie header. */
export function cookiePair(res: RawResponse, name: string): string | undefined {
  const line = res.setCookies.find((c) => c.startsWith(name + '='))
  return line?.split(';')[0]
}

/**
 * `send` bound to a port, with `Sec-Fetch-Site: same-origin` (what a browser sends on the site's
 * own pages) unless the headers given override it.
 */
export function sameOriginCaller(port: number) {
  return function call(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<RawResponse> {
    const all = { 'sec-fetch-site': 'same-origin', ...headers }
    return send(port, { method, path, headers: all, ...(body === undefined ? {} : { body }) })
  }
}
