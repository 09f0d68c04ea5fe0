/**
 * Steady load for fault tests: a fixed number of requests per second for a fixed time, sent on
 * keep-alive connections to 127.0.0.1, whatever the answers take (an open loop: a slow answer
 * does not slow the sending, as with real users). Each request is a logged-in user's read or write;
 * every answer is recorded with its timing, so a test can sort them by the phase of the fault.
 * The cookie jar behaves like a browser's: a new cookie replaces the old, a cleared one goes.
 */
import { Agent, request } from 'node:http'

/** A user with the cookie of a logged-in session. */
export interface LoadUser {
  user: string
  cookie: string | undefined
  /** Keys whose write was answered 200 as this user (so the session held them). */
  acknowledged: string[]
}

export interface Sample {
  kind: 'read' | 'write'
  /** Sent as `x-load-id`, for the app's own timing of the request. */
  id: string
  user: string
  /** The data key a write set. */
  key?: string
  sentAt: number
  doneAt: number
  /** 0 when no answer came within the hard limit, or the connection failed. */
  status: number
  retryAfter?: string
  /** The answer said the request ran as this logged-in user. */
  asUser: boolean
  /** The answer cleared the session cookie. */
  clearedCookie: boolean
  error?: string
}

export interface LoadOptions {
  port: number
  users: LoadUser[]
  ratePerS: number
  durationMs: number
  /** Prefix of the data keys writes set, unique per run. */
  keyPrefix: string
  /** An answer slower than this is recorded as status 0 (a hang). */
  hardLimitMs?: number
}

const COOKIE = 'sid'

/** Applies a response's session Set-Cookie to the user's jar; true when it cleared the cookie. */
function applySetCookie(user: LoadUser, setCookies: string[] | undefined): boolean {
  const line = setCookies?.find((c) => c.startsWith(`${COOKIE}=`))
  if (line === undefined) return false
  const pair = line.split(';')[0]!
  const cleared = pair === `${COOKIE}=` || /expires=thu, 01 jan 1970/i.test(line)
  user.cookie = cleared ? undefined : pair
  return cleared
}

function once(agent: Agent, opts: LoadOptions, user: LoadUser, seq: number): Promise<Sample> {
  const isWrite = seq % 2 === 0
  const key = `${opts.keyPrefix}${seq}`
  const id = key
  const path = isWrite ? `/write?k=${key}` : '/read'
  const sentAt = Date.now()
  const base = { kind: isWrite ? 'write' : 'read', id, user: user.user, sentAt } as const
  const sample = isWrite ? { ...base, key } : base
  return new Promise(function exchange(resolve) {
    const headers: Record<string, string> = { 'x-load-id': id }
    if (user.cookie !== undefined) headers['cookie'] = user.cookie
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: opts.port,
        method: isWrite ? 'POST' : 'GET',
        path,
        headers,
      },
      function onResponse(res) {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', function ended() {
          const status = res.statusCode ?? 0
          let answeredUser: unknown
          try {
            answeredUser = (
              JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user?: unknown }
            ).user
          } catch {
            answeredUser = undefined
          }
          const clearedCookie = applySetCookie(user, res.headers['set-cookie'])
          const asUser = status === 200 && answeredUser === user.user
          if (isWrite && asUser) user.acknowledged.push(key)
          const retryAfter = res.headers['retry-after']
          resolve({
            ...sample,
            doneAt: Date.now(),
            status,
            asUser,
            clearedCookie,
            ...(retryAfter === undefined ? {} : { retryAfter }),
          })
        })
      },
    )
    req.setTimeout(opts.hardLimitMs ?? 5000, function hung() {
      req.destroy(new Error('no answer within the hard limit'))
    })
    req.on('error', function failed(err) {
      const error = err.message
      resolve({
        ...sample,
        doneAt: Date.now(),
        status: 0,
        asUser: false,
        clearedCookie: false,
        error,
      })
    })
    req.end()
  })
}

/** Sends the load and resolves with every answer once the last one is in. */
export async function steadyLoad(opts: LoadOptions): Promise<Sample[]> {
  // No socket cap: a request waiting for a free socket would count the client's queue as the
  // server's latency. Idle sockets are reused (keep-alive), so the count stays near rate x latency.
  const agent = new Agent({ keepAlive: true })
  const startedAt = Date.now()
  const total = Math.round((opts.ratePerS * opts.durationMs) / 1000)
  const pending: Promise<Sample>[] = []
  try {
    for (let seq = 0; seq < total; seq++) {
      // Each request has its slot on the schedule; a late timer never bunches requests up.
      const wait = startedAt + (seq * 1000) / opts.ratePerS - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const user = opts.users[seq % opts.users.length]!
      pending.push(once(agent, opts, user, seq))
    }
    return await Promise.all(pending)
  } finally {
    agent.destroy()
  }
}

/** The figures a fault test reports: load held, status counts, worst latency. */
export interface LoadSummary {
  requests: number
  heldPerS: number
  statusCounts: Record<string, number>
  maxLatencyMs: number
}

export function summarize(samples: Sample[]): LoadSummary {
  const statusCounts: Record<string, number> = {}
  let maxLatencyMs = 0
  for (const s of samples) {
    statusCounts[String(s.status)] = (statusCounts[String(s.status)] ?? 0) + 1
    maxLatencyMs = Math.max(maxLatencyMs, s.doneAt - s.sentAt)
  }
  const first = Math.min(...samples.map((s) => s.sentAt))
  const last = Math.max(...samples.map((s) => s.sentAt))
  const spanS = Math.max(last - first, 1) / 1000
  return {
    requests: samples.length,
    heldPerS: Math.round((samples.length - 1) / spanS),
    statusCounts,
    maxLatencyMs,
  }
}

/** One report line, e.g. `redis kill: 100 req/s for 7.0 s (700 requests); 200: 600, 503: 100; max 312 ms`. */
export function reportLine(name: string, summary: LoadSummary, extra = ''): string {
  const counts = Object.entries(summary.statusCounts)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ')
  const secs = (summary.requests / Math.max(summary.heldPerS, 1)).toFixed(1)
  return (
    `[faults] ${name}: ${summary.heldPerS} req/s held for ~${secs} s (${summary.requests} requests); ` +
    `status ${counts}; max latency ${summary.maxLatencyMs} ms${extra === '' ? '' : `; ${extra}`}`
  )
}
