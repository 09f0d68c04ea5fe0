/**
 * One of the worker processes of test/reliability/cross-process.test.ts: an Express server per
 * store, each on its own 127.0.0.1 port, all sharing the one Redis prefix, PostgreSQL table or
 * SQLite file the test names, so four of these are four app instances on one store. Prints
 * `READY {"redis":port,...}` on stdout once every server listens, and stops on SIGTERM.
 *
 * Env: WORKER_STORES (comma list of redis, postgres, sqlite, peer), WORKER_SECRET, WORKER_PREFIX
 * (Redis key prefix), WORKER_TABLE (PostgreSQL table, migrated by the test), WORKER_SQLITE (file),
 * WORKER_MAX_SESSIONS (maxSessionsPerUser), REDIS_URL, DATABASE_URL.
 *
 * `peer` is express-session + connect-redis on the same Redis, for the report line only.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler, type Request, type Response } from 'express'
import session from '../../src/adapters/express/index.js'
import type { SessionStore } from '../../src/stores/types.js'
import { DATABASE_URL, REDIS_URL } from './services.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

/** Injected time: the test moves every worker's clock forward together (renewal). */
let offsetMs = 0
const clock = { now: () => Date.now() + offsetMs }

type Data = Record<string, unknown>
const data = (req: Request): Data => req.session as unknown as Data

/** Routes both the Tether and the express-session apps answer, in the same words. */
function commonRoutes(app: express.Express, increment: (req: Request) => Promise<void>): void {
  app.get('/start', function start(req: Request, res: Response) {
    data(req)['started'] = true
    res.end('ok')
  })
  app.get('/set/:k', function setKey(req: Request, res: Response) {
    data(req)['k' + String(req.params['k'])] = 1
    res.end('ok')
  })
  app.get('/count', function countKeys(req: Request, res: Response) {
    res.end(String(Object.keys(data(req)).filter((k) => /^k\d+$/.test(k)).length))
  })
  app.get('/incr', async function incr(req: Request, res: Response) {
    await increment(req)
    res.end('ok')
  })
  app.get('/n', function readN(req: Request, res: Response) {
    res.end(JSON.stringify(data(req)['n'] ?? 0))
  })
  app.post('/__clock/:ms', function advance(req: Request, res: Response) {
    offsetMs += Number(req.params['ms'])
    res.end('ok')
  })
}

const errors: ErrorRequestHandler = function answerError(err, _req, res, _next) {
  const e = err as { status?: number; code?: string }
  res.status(e.status ?? 500).json({ code: e.code ?? 'ERROR' })
}

function tetherApp(store: SessionStore): express.Express {
  const mw = session({
    secret: env('WORKER_SECRET'),
    store,
    clock,
    renewAfter: '15m',
    maxSessionsPerUser: Number(env('WORKER_MAX_SESSIONS')),
    onSessionLimit: 'refuse',
    // 400 requests at once queue for 20 pooled connections on a loaded 2-core machine: past the
    // default 1 s some would be refused with 503 (fail-closed, which test/faults/ covers). This
    // file counts lost writes, so every write must be answered.
    storeTimeout: '10s',
  })
  const app = express()
  app.use(mw)
  commonRoutes(app, (req) =>
    req.session.update(function addOne(d) {
      d['n'] = ((d['n'] as number | undefined) ?? 0) + 1
    }),
  )
  app.post('/login/:user', async function login(req: Request, res: Response) {
    try {
      await req.session.login(String(req.params['user']))
    } catch (err) {
      if ((err as { code?: string }).code !== 'TETHER_SESSION_LIMIT') throw err
      res.status(409).json({ code: 'TETHER_SESSION_LIMIT' })
      return
    }
    res.json({ ref: req.session.ref })
  })
  app.get('/me', function me(req: Request, res: Response) {
    res.json({ ref: req.session.ref, authed: req.session.authAge !== null })
  })
  app.get('/list/:user', async function list(req: Request, res: Response) {
    res.json((await mw.manager.listUserSessions(String(req.params['user']))).map((s) => s.ref))
  })
  app.use(errors)
  return app
}

async function peerApp(): Promise<{ app: express.Express; close(): Promise<void> }> {
  const { default: expressSession } = await import('express-session')
  const { RedisStore: ConnectRedisStore } = await import('connect-redis')
  const { createClient } = await import('redis')
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  const app = express()
  app.use(
    expressSession({
      secret: env('WORKER_SECRET'),
      resave: false,
      saveUninitialized: false,
      store: new ConnectRedisStore({ client, prefix: env('WORKER_PREFIX') + 'es:' }),
    }),
  )
  // express-session has no atomic update: the read-modify-write every app writes by hand.
  commonRoutes(app, (req) => {
    data(req)['n'] = ((data(req)['n'] as number | undefined) ?? 0) + 1
    return Promise.resolve()
  })
  app.use(errors)
  return { app, close: () => client.close() }
}

async function openStore(kind: string): Promise<{ store: SessionStore; close(): Promise<void> }> {
  switch (kind) {
    case 'redis': {
      const { createClient } = await import('redis')
      const { RedisStore } = await import('../../src/stores/redis.js')
      const client = createClient({ url: REDIS_URL })
      await client.connect()
      const store = new RedisStore({ client, prefix: env('WORKER_PREFIX') + 'tether:', clock })
      return { store, close: () => client.close() }
    }
    case 'postgres': {
      const { default: pg } = await import('pg')
      const { PostgresStore } = await import('../../src/stores/postgres.js')
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 })
      const store = new PostgresStore({ pool, table: env('WORKER_TABLE'), clock })
      return { store, close: () => pool.end() }
    }
    case 'sqlite': {
      const { SqliteStore } = await import('../../src/stores/sqlite.js')
      const store = new SqliteStore({ path: env('WORKER_SQLITE'), clock })
      return { store, close: () => store.close() }
    }
    default:
      throw new Error(`unknown store ${kind}`)
  }
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => resolve(server))
    // Longer than any pause between the test's bursts: a keep-alive socket the server closed
    // while the client reused it would be an ECONNRESET that says nothing about sessions.
    server.keepAliveTimeout = 120_000
  })
}

const ports: Record<string, number> = {}
const closers: Array<() => Promise<void>> = []
for (const kind of env('WORKER_STORES').split(',')) {
  const opened = kind === 'peer' ? await peerApp() : await openStore(kind)
  const app = 'app' in opened ? opened.app : tetherApp(opened.store)
  const server = await listen(app)
  ports[kind] = (server.address() as AddressInfo).port
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await opened.close()
  })
}
process.stdout.write(`READY ${JSON.stringify(ports)}\n`)
process.once('SIGTERM', function stop() {
  void Promise.all(closers.map((close) => close())).finally(() => process.exit(0))
})
