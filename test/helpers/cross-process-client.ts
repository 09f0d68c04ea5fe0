/**
 * Starts the four worker processes of test/reliability/cross-process.test.ts, and a small HTTP
 * client that spreads requests over them (127.0.0.1 only). Workers are stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { createInterface } from 'node:readline'

const WORKER = new URL('./cross-process-worker.ts', import.meta.url).pathname
const READY_TIMEOUT_MS = 30_000

/** One worker process: its servers' ports by store kind. */
export interface Worker {
  child: ChildProcess
  ports: Record<string, number>
}

function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`worker not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`))
    }, READY_TIMEOUT_MS)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`worker exited (${code}): ${stderr}`))
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('READY ')) return
      clearTimeout(timer)
      resolve({ child, ports: JSON.parse(line.slice(6)) as Record<string, number> })
    })
  })
}

/** Starts `count` workers with the same environment. */
export async function startWorkers(count: number, env: Record<string, string>): Promise<Worker[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(env)))
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s) => s.status === 'rejected')
  if (failed !== undefined) {
    await stopWorkers(workers)
    throw failed.reason
  }
  return workers
}

/** SIGTERM to each worker by pid, then waits for it to exit (SIGKILL after 5 s). */
export async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 5000)
        child.once('exit', () => {
          clearTimeout(force)
          resolve()
        })
        child.kill('SIGTERM')
      })
    }),
  )
}

export interface Reply {
  status: number
  body: string
  /** `name=value` of the session cookie set, if any. */
  cookie: string | undefined
}

// Many sockets per worker, so the requests really overlap in the servers.
const agent = new Agent({ keepAlive: true, maxSockets: 128 })

/** One request to 127.0.0.1:port with an optional Cookie header. */
export function call(port: number, method: string, path: string, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method, path, headers: cookie ? { cookie } : {} },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => {
          const set = res.headers['set-cookie']?.find(
            (c) => c.startsWith('sid=') || c.startsWith('connect.sid='),
          )
          resolve({ status: res.statusCode ?? 0, body, cookie: set?.split(';')[0] })
        })
      },
    )
    req.setTimeout(120_000, () => req.destroy(new Error(`no answer to ${path} in 20 s`)))
    req.on('error', reject)
    req.end()
  })
}

/** Closes the client's idle keep-alive sockets (after the file's tests). */
export function closeClient(): void {
  agent.destroy()
}
