/**
 * A private redis-server for fault tests, on a free loopback port with its own temporary directory.
 * `persist: true` keeps every write in an append-only file (fsync always) in that directory, so a
 * server killed and started again on the same port comes back with its data; without it the server
 * restarts empty. Nothing but this child is ever signalled.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeAtExit, removeNow, spawnOwned, type OwnedProcess } from './fault-process.js'
import { waitFor } from './wait-for.js'
import { freePort } from './redis-server.js'

/** Why the Redis fault tests cannot run here, or false when they can. */
export function redisServerMissing(): string | false {
  const probe = spawnSync('redis-server', ['--version'])
  return probe.status === 0 ? false : 'redis-server is not installed'
}

export interface FaultRedis {
  readonly port: number
  readonly url: string
  /** Kills the server by its pid (SIGKILL by default: a crash) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port and directory; resolves once it answers PING. */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  close(): Promise<void>
}

/** True when a PING on a fresh connection gets +PONG (not -LOADING) within 500 ms. */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export async function startFaultRedis(opts: { persist: boolean }): Promise<FaultRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'tether-faults-redis-'))
  removeAtExit(dir)
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '']
  args.push(...(opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []))
  if (!opts.persist) args.push('--appendonly', 'no')
  let server: (OwnedProcess & { stderr(): string }) | undefined

  async function start(): Promise<void> {
    const proc = spawnOwned('redis-server', args, { cwd: dir })
    server = proc
    await waitFor(`private redis-server on port ${port} did not answer PING`, async () => {
      if (!proc.isRunning) throw new Error(`redis-server exited: ${proc.stderr()}`)
      return pingRedis(port)
    })
  }
  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await server?.kill(signal)
  }
  async function close(): Promise<void> {
    await server?.kill('SIGKILL')
    removeNow(dir)
  }
  await start()
  return { port, url: `redis://127.0.0.1:${port}`, kill, start, close }
}
