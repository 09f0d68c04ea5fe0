/**
 * Floors: each framework with no sessions, answering every route with the same small JSON. They
 * say what a request costs before any session library, so the ratios can be read against them.
 */
import { createServer, type Server } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import Koa from 'koa'
import type { createClient } from 'redis'
import { closeServer, listen, type Listening } from './listen.js'
import { FLOOR_BODY } from './routes.js'

type RedisClient = ReturnType<typeof createClient>

export async function expressFloor(): Promise<Listening> {
  const app = express()
  app.get(/.*/, function floor(_req, res) {
    res.json(FLOOR_BODY)
  })
  return listen(createServer(app))
}

/** Express with one Redis GET per request: the floor plus one store round trip. */
export async function expressRedisFloor(client: RedisClient, prefix: string): Promise<Listening> {
  const app = express()
  app.get(/.*/, function floorWithRoundTrip(_req, res, next) {
    client.get(`${prefix}floor`).then(() => void res.json(FLOOR_BODY), next)
  })
  return listen(createServer(app))
}

export async function fastifyFloor(): Promise<Listening> {
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
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
  })
  return { server, close: () => closeServer(server) }
}

export async function honoFloor(): Promise<Listening> {
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
