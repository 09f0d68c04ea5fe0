/**
 * One test app per entry point (Express, Fastify, Hono, Fetch, Koa, node:http), each serving
 * routes.ts on a real server on 127.0.0.1. Only the mapping differs: reading the query, getting
 * the session, sending JSON.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import Koa from 'koa'
import expressSession, { tetherErrorHandler } from '../../../src/adapters/express/index.js'
import fastifySession from '../../../src/adapters/fastify/index.js'
import { session as honoSession, type SessionEnv } from '../../../src/adapters/hono/index.js'
import { createSessions as fetchSessions } from '../../../src/adapters/fetch/index.js'
import { session as koaSession } from '../../../src/adapters/koa/index.js'
import { createSessions as nodeSessions } from '../../../src/adapters/node/index.js'
import { csrfToken } from '../../../src/csrf/index.js'
import type { HttpOptions } from '../../../src/http/options.js'
import type { SessionObject } from '../../../src/http/session-object.js'
import { ROUTES } from './routes.js'

export interface App {
  url: string
  port: number
  close(): Promise<void>
}

export type Build = (options: HttpOptions<never>) => Promise<App>

function routeOf(method: string, url: string): [string, URLSearchParams] {
  const parsed = new URL(url, 'http://x')
  return [`${method} ${parsed.pathname}`, parsed.searchParams]
}

async function listenOn(server: ReturnType<typeof createServer>): Promise<App> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const express_: Build = async (options) => {
  const app = express()
  app.use(expressSession(options as never))
  app.get('/csrf', (req, res) => void res.json({ token: csrfToken(req) }))
  app.all(/.*/, (req, res, next) => {
    const [route, query] = routeOf(req.method, req.originalUrl)
    const action = ROUTES[route]
    if (action === undefined) return next()
    Promise.resolve(action(req.session as unknown as SessionObject, query)).then(
      (body) => void res.json(body),
      next,
    )
  })
  app.use(tetherErrorHandler())
  return listenOn(createServer(app))
}

const fastify_: Build = async (options) => {
  const app = Fastify()
  await app.register(fastifySession, options as never)
  app.get('/csrf', (request, reply) => reply.send({ token: csrfToken(request) }))
  app.all('/*', async (request, reply) => {
    const [route, query] = routeOf(request.method, request.url)
    const action = ROUTES[route]
    if (action === undefined) return reply.code(404).send({ error: 'not found' })
    return action(request.session, query)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, port, close: () => app.close() }
}

/** Serves a Fetch API handler on @hono/node-server, 127.0.0.1, port 0. */
export async function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<App> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        ;(server as unknown as { closeAllConnections?(): void }).closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

const hono_: Build = async (options) => {
  const app = new Hono<SessionEnv>()
  app.use(honoSession(options as never))
  app.get('/csrf', (c) => c.json({ token: csrfToken(c) }))
  app.all('*', async (c) => {
    const [route, query] = routeOf(c.req.method, c.req.url)
    const action = ROUTES[route]
    if (action === undefined) return c.json({ error: 'not found' }, 404)
    return c.json(await action(c.get('session'), query))
  })
  return serveFetch(app.fetch)
}

const fetch_: Build = async (options) => {
  const sessions = fetchSessions({
    ...(options as object),
    clientIp: () => '127.0.0.1',
  } as never)
  const handler = sessions.route(async (request, session) => {
    const [route, query] = routeOf(request.method, request.url)
    if (route === 'GET /csrf') return Response.json({ token: csrfToken(session) })
    const action = ROUTES[route]
    if (action === undefined) return Response.json({ error: 'not found' }, { status: 404 })
    return Response.json(await action(session, query))
  })
  return serveFetch(handler)
}

const koa_: Build = async (options) => {
  const app = new Koa()
  app.use(koaSession(options as never))
  app.use(async function routes(ctx) {
    const [route, query] = routeOf(ctx.method, ctx.url)
    if (route === 'GET /csrf') {
      ctx.body = { token: csrfToken(ctx) }
      return
    }
    const action = ROUTES[route]
    if (action === undefined) return
    ctx.body = await action(ctx.session as SessionObject, query)
  })
  app.silent = true
  const callback = app.callback()
  return listenOn(createServer((req, res) => void callback(req, res)))
}

const node_: Build = async (options) => {
  const sessions = nodeSessions(options as never)
  async function handle(req: IncomingMessage, res: ServerResponse) {
    let session
    try {
      session = await sessions.load(req)
    } catch (err) {
      if (!sessions.sendError(err, req, res)) res.writeHead(500).end()
      return
    }
    const [route, query] = routeOf(req.method ?? 'GET', req.url ?? '/')
    try {
      const body =
        route === 'GET /csrf' ? { token: csrfToken(req) } : await ROUTES[route]?.(session, query)
      await session.commit(res)
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify(body ?? { error: 'not found' }))
    } catch (err) {
      if (!sessions.sendError(err, req, res)) res.writeHead(500).end()
    }
  }
  return listenOn(createServer((req, res) => void handle(req, res)))
}

/** Every entry point, by name. */
export const APPS: Record<string, Build> = {
  express: express_,
  fastify: fastify_,
  hono: hono_,
  fetch: fetch_,
  koa: koa_,
  node: node_,
}
