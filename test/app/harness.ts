/**
 * Runs the reference app over real HTTP on 127.0.0.1 (port 0) for the app tests, and a small
 * cookie-keeping client that talks to it the way a JSON client or a browser form would.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { createApp, type AppOptions, type RunningApp } from '../../app/app.js'
import type { AppConfig, StoreKind } from '../../app/config.js'
import { DATABASE_URL, REDIS_URL, skipUnlessReachable } from '../helpers/services.js'

/** A fresh strong secret. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** A temporary DATA_DIR, removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-app-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A configuration as loadConfig would build it, for `store`, without reading the environment. */
export function testConfig(store: StoreKind, dataDir: string, over: Partial<AppConfig> = {}) {
  const config: AppConfig = {
    port: 0,
    production: false,
    store,
    dataDir,
    redisUrl: REDIS_URL,
    databaseUrl: DATABASE_URL,
    secrets: [newSecret()],
    idleTimeoutMs: 30 * 60_000,
    absoluteTimeoutMs: 8 * 3_600_000,
    renewAfterMs: 15 * 60_000,
    reauthMaxAgeMs: 5 * 60_000,
    binding: 'log',
    maxSessionsPerUser: 10,
    sessionLimitPolicy: 'refuse',
    adminClass: null,
    trustProxy: false,
    warnings: [],
    ...over,
  }
  return config
}

/** A running app: its URL, the log lines it wrote, and how to stop it. */
export interface Served {
  url: string
  running: RunningApp
  lines: string[]
  close(): Promise<void>
}

/**
 * Starts the app on port 0; stopped after the test or by `close()`: `beforeClose` (cleanup that
 * needs the store), then the server, then the store.
 */
export async function serve(
  t: TestContext,
  config: AppConfig,
  opts: Omit<AppOptions, 'logStream'> = {},
  beforeClose?: (running: RunningApp) => Promise<void>,
): Promise<Served> {
  const lines: string[] = []
  const logStream = {
    write(line: string) {
      lines.push(line)
    },
  }
  const running = await createApp(config, { ...opts, logStream })
  const server = running.app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  let closed = false
  async function close(): Promise<void> {
    if (closed) return
    closed = true
    try {
      await beforeClose?.(running)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await running.close()
    }
  }
  t.after(close)
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, running, lines, close }
}

/**
 * Per store, false or the one-line reason its tests skip: Redis and PostgreSQL when unreachable
 * (under TETHER_REQUIRE_SERVICES=1 that throws instead).
 */
export async function storeSkips(): Promise<Record<StoreKind, string | false>> {
  return {
    sqlite: false,
    memory: false,
    redis: await skipUnlessReachable('Redis', REDIS_URL, 'REDIS_URL'),
    postgres: await skipUnlessReachable('PostgreSQL', DATABASE_URL, 'DATABASE_URL'),
  }
}

/** Drops a test's PostgreSQL table (a Redis prefix is emptied by revoking its users). */
async function dropTable(namespace: string): Promise<void> {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  try {
    const table = `tether_sessions_${namespace}`
    await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_not_before`)
  } finally {
    await pool.end()
  }
}

/** Deletes a test's "not before" mark from Redis (revoke-all leaves it, with an 8 h TTL). */
async function deleteRedisMark(namespace: string): Promise<void> {
  const { createClient } = await import('redis')
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  try {
    await client.del(`tether:${namespace}:nb:*`)
  } finally {
    await client.close()
  }
}

/**
 * The app on `kind` (config `over` on top of the test defaults), with its own namespace on a
 * shared Redis or PostgreSQL, emptied after the test.
 */
export async function serveOn(
  t: TestContext,
  kind: StoreKind,
  over: Partial<AppConfig> = {},
  opts: Omit<AppOptions, 'logStream' | 'namespace'> = {},
): Promise<Served> {
  const namespace = `t${randomBytes(6).toString('hex')}`
  const config = testConfig(kind, tempDir(t), over)
  const served = await serve(t, config, { ...opts, namespace }, async (running) => {
    for (const userId of ['1', '2', '3']) await running.sessions.revokeUserSessions(userId)
  })
  // t.after hooks run in the order they were added: this one after the app has closed.
  if (kind === 'postgres') t.after(() => dropTable(namespace))
  if (kind === 'redis') t.after(() => deleteRedisMark(namespace))
  return served
}

/** The Accept header of a browser asking for a page. */
export const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }

/** The `_csrf` value of the first form on a page. */
export function formToken(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page)
  if (match === null) throw new Error('the page has no form with a CSRF token')
  return match[1]!
}

/** One answer: status, headers, and the body as JSON (when it is) and as text. */
export interface Answer {
  status: number
  headers: Headers
  text: string
  /** The parsed body; `any` because tests read response fields they assert on. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

/** Sends requests with the cookies it was given, like one browser profile or one API client. */
export class Client {
  readonly cookies = new Map<string, string>()
  base: string
  userAgent: string

  constructor(base: string, userAgent = 'tether-app-test') {
    this.base = base
    this.userAgent = userAgent
  }

  /** The `Cookie` header value, or undefined. */
  get cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const expired = /expires=thu, 01 jan 1970/i.test(line) || value === ''
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async send(
    method: string,
    path: string,
    opts: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...opts.headers }
    const cookie = this.cookieHeader
    if (cookie !== undefined) headers['cookie'] = cookie
    let body: string | undefined
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.json)
    } else if (opts.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(opts.form).toString()
    }
    const init: RequestInit = { method, headers, redirect: 'manual' }
    if (body !== undefined) init.body = body
    const res = await fetch(this.base + path, init)
    this.keep(res)
    const text = await res.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.status, headers: res.headers, text, json }
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, { headers })
  }

  /** POST /login with a JSON body. */
  login(username: string, password: string): Promise<Answer> {
    return this.send('POST', '/login', { json: { username, password } })
  }

  /** The token from GET /csrf-token. */
  async token(): Promise<string> {
    return (await this.get('/csrf-token')).json.csrfToken as string
  }

  /** An unsafe request carrying this session's CSRF token in `x-csrf-token`. */
  async post(path: string, json: unknown = {}): Promise<Answer> {
    const token = await this.token()
    return this.send('POST', path, { json, headers: { 'x-csrf-token': token } })
  }
}

/** `npm start` as a child process: its URL once it listens, its output, and how to stop it. */
export interface Spawned {
  url: string
  stdout: string[]
  stop(): Promise<void>
}

const REPO = new URL('../../', import.meta.url).pathname

/**
 * Runs app/server.ts as `npm start` does, with `env` on top of a clean environment (no
 * SESSION_* or NODE_ENV from the outer shell). Resolves when it logs its URL.
 */
export function spawnServer(t: TestContext, env: Record<string, string>): Promise<Spawned> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SESSION_|NODE_ENV$|PORT$|DATA_DIR$)/.test(k)),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
    cwd: REPO,
    env: { ...base, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  t.after(stop)
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line)
      const url = /on (http:\/\/localhost:\d+)/.exec(line)?.[1]
      if (url !== undefined) resolve({ url: url.replace('localhost', '127.0.0.1'), stdout, stop })
    })
  })
}
