/**
 * Floors: each framework with no sessions, answering every route with the same small JSON. They
 * say what a request costs before any session library, so the ratios can be read against them.
 * Each builder imports its framework when it runs: a server process loads only what it serves.
 */
import { createServer, type Server } from 'node:http'
import type { createClient } from 'redis'
import { closeServer, listen, type Listening } from './listen.js'
import { FLOOR_BODY } from './routes.js'

type RedisClient = ReturnType<typeof createClient>

export async function expressFloor(): Promise<Listening> {
  const { default: express } = await import('express')
  const app = express()
  app.get(/.*/, function floor(_req, res) {
    res.json(FLOOR_BODY)
  })
  return listen(createServer(app))
}

/** Express with one Redis GET per request: the floor plus one store round trip. */
export async function expressRedisFloor(client: RedisClient, prefix: string): Promise<Listening> {
  const { default: express } = await import('express')
  const app = express()
  app.get(/.*/, function floorWithRoundTrip(_req, res, next) {
    client.get(`${prefix}floor`).then(() => void res.json(FLOOR_BODY), next)
  })
  return listen(createServer(app))
}

export async function fastifyFloor(): Promise<Listening> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  app.get('/*', function floor(_request, reply) {
    return reply.send(FLOOR_BODY)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { server: app.server, close: () => app.close() }
}

/** Serves a Fetch API handler on @hono/node-server, 127.0.0.1, port 0. */
export async function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<Listening> {
  const { serve } = await import('@hono/node-server')
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
  })
  return { server, close: () => closeServer(server) }
}

export async function honoFloor(): Promise<Listening> {
  const { Hono } = await import('hono')
  const app = new Hono()
  app.get('*', (c) => c.json(FLOOR_BODY))
  return serveFetch(app.fetch)
}

export async function fetchFloor(): Promise<Listening> {
  return serveFetch(function floor() {
    return Response.json(FLOOR_BODY)
  })
}

export async function koaFloor(): Promise<Listening> {
  const { default: Koa } = await import('koa')
  const app = new Koa()
  app.use(function floor(ctx) {
    ctx.body = FLOOR_BODY
  })
  const callback = app.callback()
  return listen(createServer((req, res) => void callback(req, res)))
}

export async function nodeFloor(): Promise<Listening> {
  return listen(
    createServer(function floor(_req, res) {
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify(FLOOR_BODY))
    }),
  )
}
