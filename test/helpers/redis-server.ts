import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** True when `redis-server` is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

/** A free loopback port (the OS picks it; closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** A private redis-server on 127.0.0.1:port, nothing kept on disk. Stopped by pid only. */
export interface PrivateRedis {
  port: number
  url: string
  stop(): Promise<void>
  start(): Promise<void>
}

function ping(port: number): boolean {
  return (
    spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], {
      encoding: 'utf8',
    }).stdout.trim() === 'PONG'
  )
}

export async function privateRedis(port?: number): Promise<PrivateRedis> {
  const p = port ?? (await freePort())
  let child: ChildProcess | undefined
  async function start(): Promise<void> {
    child = spawn(
      'redis-server',
      ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    // Bounded wait for the server to answer (polls, no fixed sleep).
    for (let i = 0; i < 100; i++) {
      if (ping(p)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`private redis-server on port ${p} did not answer PING`)
  }
  async function stop(): Promise<void> {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGTERM')
    })
  }
  await start()
  return { port: p, url: `redis://127.0.0.1:${p}`, stop, start }
}
