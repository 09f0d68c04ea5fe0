/**
 * A private PostgreSQL cluster for fault tests: `initdb` into a temporary directory, then the
 * postmaster itself as a direct child (not through `pg_ctl`, which detaches it), on a free loopback
 * port with its socket in that directory, trust authentication and fsync off (`-F`). The test kills
 * it by pid and starts it again on the same port and data directory. initdb and postgres refuse to
 * run as root, so under uid 0 both run as the `postgres` OS user, owning the directory.
 */
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { removeAtExit, removeNow, spawnOwned, type OwnedProcess } from './fault-process.js'
import { waitFor } from './wait-for.js'
import { freePort } from './redis-server.js'

interface PostgresTools {
  bin: string
  /** uid/gid to run as: the `postgres` user when this process is root. */
  user: { uid: number; gid: number } | undefined
}

function newestBinDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  if (versions[0] !== undefined) return join(root, versions[0], 'bin')
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  const dir = fromConfig.status === 0 ? fromConfig.stdout.trim() : ''
  return dir !== '' && existsSync(join(dir, 'initdb')) ? dir : undefined
}

function idOf(flag: '-u' | '-g'): number | undefined {
  const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' })
  return out.status === 0 ? Number(out.stdout.trim()) : undefined
}

/** The binaries and the user to run them as, or a one-line reason they are missing. */
export function findPostgresTools(): PostgresTools | string {
  const bin = newestBinDir()
  if (bin === undefined) return 'PostgreSQL server binaries (initdb, postgres) are not installed'
  if (process.getuid?.() !== 0) return { bin, user: undefined }
  const uid = idOf('-u')
  const gid = idOf('-g')
  if (uid === undefined || gid === undefined) {
    return 'running as root, and there is no "postgres" OS user to run initdb as'
  }
  return { bin, user: { uid, gid } }
}

export interface FaultPostgres {
  readonly port: number
  /** Connection string for the `postgres` database as the `postgres` role. */
  readonly url: string
  /** The postmaster's pid, while it runs. */
  readonly pid: number | undefined
  /** Kills the postmaster by pid (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the postmaster again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>
  /** Resolves once the server answers a query again (after a crash it restarts by itself). */
  ready(timeoutMs?: number): Promise<void>
  /** Stops the cluster and removes its directory. */
  close(): Promise<void>
}

/** True when a new connection runs `SELECT 1`. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

export async function startFaultPostgres(tools: PostgresTools): Promise<FaultPostgres> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'tether-faults-pg-'))
  removeAtExit(dir)
  const data = join(dir, 'data')
  const asUser = tools.user ?? {}
  if (tools.user !== undefined) chownSync(dir, tools.user.uid, tools.user.gid)
  const init = spawnSync(
    join(tools.bin, 'initdb'),
    ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...asUser, cwd: dir, encoding: 'utf8' },
  )
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const args = ['-D', data, '-k', dir, '-h', '127.0.0.1', '-p', String(port), '-F']
  let server: (OwnedProcess & { stderr(): string }) | undefined

  async function ready(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `private PostgreSQL on port ${port} did not answer`,
      async () => {
        if (server !== undefined && !server.isRunning) {
          throw new Error(`postgres exited: ${server.stderr()}`)
        }
        return answers(url)
      },
      timeoutMs,
    )
  }
  async function start(): Promise<void> {
    // After a SIGKILL the old server's backends may hold its shared memory for a moment, and
    // a new postmaster refuses to start until they are gone: try again, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      server = spawnOwned(join(tools.bin, 'postgres'), args, { ...asUser, cwd: dir })
      try {
        await ready()
        return
      } catch (err) {
        if (attempt >= 20 || !/still in use|already running/i.test(server.stderr())) throw err
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await server?.kill(signal)
  }
  async function close(): Promise<void> {
    // Immediate shutdown: the postmaster ends its backends itself, nothing is left behind.
    await server?.kill('SIGQUIT')
    removeNow(dir)
  }
  await start()
  return {
    port,
    url,
    get pid() {
      return server?.isRunning === true ? server.pid : undefined
    },
    kill,
    start,
    ready,
    close,
  }
}
