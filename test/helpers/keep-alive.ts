/**
 * Requests in a row on one keep-alive connection, as browsers and HTTP client pools send them: a
 * response whose framing is wrong (a stale Content-Length) corrupts the next one on the socket.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http'

export interface KeptResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** The request went out on a socket an earlier request had used. */
  reusedSocket: boolean
}

export interface KeptRequest {
  method?: string
  path: string
  headers?: Record<string, string>
}

const TIMEOUT_MS = 3000

function once(agent: Agent, port: number, req: KeptRequest): Promise<KeptResponse> {
  return new Promise(function exchange(resolve, reject) {
    const out = request(
      { agent, host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.path },
      function onResponse(res) {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', function ended() {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: out.reusedSocket,
          })
        })
      },
    )
    for (const [name, value] of Object.entries(req.headers ?? {})) out.setHeader(name, value)
    // A body shorter than its Content-Length would otherwise hang the test instead of failing it.
    out.setTimeout(TIMEOUT_MS, function timedOut() {
      out.destroy(new Error(`no complete response to ${req.path} within ${TIMEOUT_MS} ms`))
    })
    out.on('error', reject)
    out.end()
  })
}

/** Sends `requests` one after another through an agent with keepAlive and maxSockets 1. */
export async function sendInRow(port: number, requests: KeptRequest[]): Promise<KeptResponse[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const answers: KeptResponse[] = []
    for (const req of requests) answers.push(await once(agent, port, req))
    return answers
  } finally {
    agent.destroy()
  }
}
