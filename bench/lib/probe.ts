/**
 * Single requests the harness sends itself, outside the measured windows: the login that gives
 * the load its cookie or header token, and a probe of what one measured request sends back.
 */
import { request, type IncomingHttpHeaders } from 'node:http'

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export function get(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers, agent: false },
      function onResponse(res) {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${path} within 5 s`)))
    req.on('error', reject)
    req.end()
  })
}

/** `name=value` of every cookie a response sets, as a Cookie header. */
export function cookieHeader(answer: Answer): string {
  return (answer.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]!).join('; ')
}

/** Bytes of the response's Set-Cookie header lines (values only, as sent on the wire). */
export function setCookieBytes(answer: Answer): number {
  return (answer.headers['set-cookie'] ?? []).reduce((n, line) => n + Buffer.byteLength(line), 0)
}
