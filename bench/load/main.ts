/**
 * The load generator, run by the harness as one long-lived child process pinned to CPU 1:
 *
 *   node --import tsx bench/load/main.ts
 *
 * Each `run` job over IPC is one autocannon run against 127.0.0.1 (keep-alive connections, no
 * pipelining); the answer is its request count, latency percentiles and status codes. Forged
 * cookies are made here, on the load's CPU, so forging costs the server nothing.
 */
import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import type { LoadJob, LoadResult } from '../lib/protocol.js'
import { forgeToken } from '../lib/forge.js'
import { percentile } from '../lib/stats.js'

function requestsOf(job: LoadJob): autocannon.Request[] | undefined {
  const forge = job.forge
  if (forge === undefined) return undefined
  const fixed = Array.from({ length: 16 }, () => forgeToken(forge.template, randomBytes))
  let i = 0
  return [
    {
      method: 'GET',
      path: job.path,
      setupRequest: function forged(request) {
        const token =
          forge.mode === 'new' ? forgeToken(forge.template, randomBytes) : fixed[i++ % 16]!
        return { ...request, headers: { ...job.headers, cookie: `${forge.name}=${token}` } }
      },
    },
  ]
}

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const requests = requestsOf(job)
    // Every response's latency in ms (autocannon's own histogram keeps whole ms, 2xx only).
    const latencies: number[] = []
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${job.port}${job.path}`,
        connections: job.connections,
        pipelining: 1,
        duration: job.seconds,
        headers: job.headers,
        ...(requests === undefined ? {} : { requests }),
      },
      function done(err, result) {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)))
        const statuses: Record<string, number> = {}
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
          statuses[code] = stat.count ?? 0
        }
        resolve({
          type: 'result',
          id: job.id,
          requests: result.requests.total,
          seconds: (result.finish.getTime() - result.start.getTime()) / 1000,
          latencyP50Ms: percentile(latencies, 50),
          latencyP99Ms: percentile(latencies, 99),
          non2xx: result.non2xx,
          errors: result.errors,
          statuses,
        })
      },
    )
    instance.on('response', function onResponse(_client, _status, _bytes, ms: number) {
      latencies.push(ms)
    })
  })
}

process.on('message', function onJob(job: LoadJob) {
  run(job).then(
    (result) => process.send!(result),
    (err: unknown) => process.send!({ type: 'error', id: job.id, message: String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
