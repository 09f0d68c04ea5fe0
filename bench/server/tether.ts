/**
 * Tether on every adapter, through the public entry points (`tether-session/express`, ...), with
 * the same three routes. `options` carries the secret, the store and any scenario option. Each
 * builder imports its framework and adapter when it runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { SessionEnv } from 'tether-session/hono'
import { serveFetch } from './floors.js'
import { listen, type Listening } from './listen.js'
import { bump, USER, whoami, type Bag } from './routes.js'

/** Options for any adapter (secret, store, and the scenario's own). */
export type TetherOptions = Record<string, unknown>

/** What every Tether session has, whatever the adapter. */
interface TetherSession {
  login(userId: string): Promise<void>
}

function asBag(s: unknown): Bag & TetherSession {
  return s as Bag & TetherSession
}

/**
 * The three routes: the answer's body. `current()` gives the request's session; it is read again
 * after `login()`, which gives the request a new session object on some adapters (Express).
 */
async function route(path: string, current: () => unknown): Promise<unknown> {
  switch (path) {
    case '/login':
      await asBag(current()).login(USER.id)
      asBag(current())['user'] = USER
      return { ok: true }
    case '/me':
      return { n: bump(asBag(current())) }
    default:
      return whoami(asBag(current()))
  }
}

function pathOf(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?')
  return q === -1 ? (url ?? '/') : (url ?? '/').slice(0, q)
}

export async function tetherExpress(options: TetherOptions): Promise<Listening> {
  const { default: express } = await import('express')
  const { default: session, tetherErrorHandler } = await import('tether-session/express')
  const app = express()
  app.use(session(options as never))
  app.get(['/login', '/me', '/whoami'], function routes(req, res, next) {
    route(req.path, () => req.session).then((body) => void res.json(body), next)
  })
  app.use(tetherErrorHandler())
  return listen(createServer(app))
}

export async function tetherFastify(options: TetherOptions): Promise<Listening> {
  const { default: Fastify } = await import('fastify')
  const { default: fastifySession } = await import('tether-session/fastify')
  const app = Fastify()
  await app.register(fastifySession, options as never)
  app.get('/*', async function routes(request) {
    return route(pathOf(request.url), () => request.session)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { server: app.server, close: () => app.close() }
}

export async function tetherHono(options: TetherOptions): Promise<Listening> {
  const { Hono } = await import('hono')
  const { session: honoSession } = await import('tether-session/hono')
  const app = new Hono<SessionEnv>()
  app.use(honoSession(options as never))
  app.get('*', async (c) => c.json(await route(c.req.path, () => c.get('session'))))
  return serveFetch(app.fetch)
}

export async function tetherKoa(options: TetherOptions): Promise<Listening> {
  const { default: Koa } = await import('koa')
  const { session: koaSession } = await import('tether-session/koa')
  const app = new Koa()
  app.use(koaSession(options as never))
  app.use(async function routes(ctx) {
    ctx.body = await route(ctx.path, () => ctx.session)
  })
  app.silent = true
  const callback = app.callback()
  return listen(createServer((req, res) => void callback(req, res)))
}

export async function tetherNode(options: TetherOptions): Promise<Listening> {
  const { createSessions: nodeSessions } = await import('tether-session/node')
  const sessions = nodeSessions(options as never)
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // With `res`, the session is committed before the response's headers leave.
      const session = await sessions.load(req, res)
      const body = await route(pathOf(req.url), () => session)
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify(body))
    } catch (err) {
      if (!sessions.sendError(err, req, res)) res.writeHead(500).end()
    }
  }
  return listen(createServer((req, res) => void handle(req, res)))
}

export async function tetherFetch(options: TetherOptions): Promise<Listening> {
  const { createSessions: fetchSessions } = await import('tether-session/fetch')
  const sessions = fetchSessions({ ...options, clientIp: () => '127.0.0.1' } as never)
  return serveFetch(
    sessions.route(async function routes(request, s) {
      return Response.json(await route(new URL(request.url).pathname, () => s))
    }),
  )
}
