/**
 * The harness's own redis-server: on a free port of 127.0.0.1, nothing kept on disk, pinned to
 * the load's CPU (so the server's CPU measures the server alone), stopped by its pid at the end.
 * Its `INFO commandstats` counts every command, including each one a Lua script runs.
 */
import { spawn } from 'node:child_process'
import { createClient } from 'redis'
import { pinned, stopChild, track } from './children.js'
import { parseCommandStats } from './stats.js'
import { freePort } from '../../test/helpers/redis-server.js'

export interface BenchRedis {
  url: string
  pid: number
  commandStats(): Promise<Record<string, number>>
  /** Empties the database between scenarios (this server is the harness's alone). */
  flush(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const [command, argv] = pinned(1, 'redis-server', args)
  const child = track(spawn(command, argv, { stdio: 'ignore' }))
  const url = `redis://127.0.0.1:${port}`
  const client = createClient({ url, socket: { reconnectStrategy: false } })
  client.on('error', () => {})
  // Bounded wait for the server to accept connections (polls, no fixed sleep).
  for (let i = 0; ; i++) {
    try {
      await client.connect()
      break
    } catch (err) {
      if (i >= 100 || child.exitCode !== null) {
        await stopChild(child)
        throw new Error(`redis-server on port ${port} did not start`, { cause: err })
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    url,
    pid: child.pid!,
    commandStats: async () => parseCommandStats(await client.info('commandstats')),
    flush: async () => void (await client.flushAll()),
    async stop() {
      await client.quit().catch(() => {})
      await stopChild(child)
    },
  }
}
