/**
 * The incumbents, each configured as its README does: express-session (MemoryStore and
 * connect-redis), iron-session 8 on Express, @fastify/session and @fastify/secure-session.
 * Each builder imports its libraries when it runs.
 */
import { createServer } from 'node:http'
import type express from 'express'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { createClient } from 'redis'
import { listen, type Listening } from './listen.js'
import { bump, USER, whoami, type Bag } from './routes.js'

type RedisClient = ReturnType<typeof createClient>

/** The three routes on an Express app whose `req.session` is express-session's. */
async function expressSessionApp(middleware: express.RequestHandler): Promise<express.Express> {
  const { default: express } = await import('express')
  const app = express()
  app.use(middleware)
  app.get('/login', function login(req, res) {
    ;(req.session as unknown as Bag)['user'] = USER
    res.json({ ok: true })
  })
  app.get('/me', function me(req, res) {
    res.json({ n: bump(req.session as unknown as Bag) })
  })
  app.get('/whoami', function read(req, res) {
    res.json(whoami(req.session as unknown as Bag))
  })
  return app
}

export async function expressSessionMemory(secret: string): Promise<Listening> {
  const { default: expressSession } = await import('express-session')
  const middleware = expressSession({ secret, resave: false, saveUninitialized: false })
  return listen(createServer(await expressSessionApp(middleware)))
}

/** As connect-redis's README configures it, with `rolling: true` as the tutorial does. */
export async function expressSessionRedis(
  secret: string,
  client: RedisClient,
  prefix: string,
): Promise<Listening> {
  const { default: expressSession } = await import('express-session')
  const { RedisStore: ConnectRedisStore } = await import('connect-redis')
  const store = new ConnectRedisStore({ client, prefix: `${prefix}cr:` })
  const middleware = expressSession({
    store,
    secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
  })
  return listen(createServer(await expressSessionApp(middleware)))
}

export async function ironSession(secret: string): Promise<Listening> {
  const { default: express } = await import('express')
  const { getIronSession } = await import('iron-session')
  const options = { password: secret, cookieName: 'iron', cookieOptions: { secure: false } }
  const app = express()
  app.get('/login', function login(req, res, next) {
    getIronSession<Bag>(req, res, options)
      .then(async (session) => {
        session['user'] = USER
        await session.save()
        res.json({ ok: true })
      })
      .catch(next)
  })
  app.get('/me', function me(req, res, next) {
    getIronSession<Bag>(req, res, options)
      .then(async (session) => {
        const n = bump(session)
        await session.save()
        res.json({ n })
      })
      .catch(next)
  })
  app.get('/whoami', function read(req, res, next) {
    getIronSession<Bag>(req, res, options)
      .then((session) => void res.json(whoami(session)))
      .catch(next)
  })
  return listen(createServer(app))
}

/** `get`/`set` as both Fastify session plugins have them. */
interface GetSet {
  get(key: string): unknown
  set(key: string, value: unknown): void
}

/**
 * Loaded by a name TypeScript does not follow: each plugin declares its own type for
 * `request.session`, and so does Tether's Fastify adapter, which the same program compiles.
 */
async function plugin(name: string): Promise<FastifyPluginAsync<Record<string, unknown>>> {
  const loaded = (await import(name)) as { default: FastifyPluginAsync<Record<string, unknown>> }
  return loaded.default
}

function sessionOf(request: FastifyRequest): GetSet {
  return (request as unknown as { session: GetSet }).session
}

async function fastifyApp(register: (app: FastifyInstance) => Promise<void>): Promise<Listening> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  await register(app)
  app.get('/login', function login(request, reply) {
    sessionOf(request).set('user', USER)
    return reply.send({ ok: true })
  })
  app.get('/me', function me(request, reply) {
    const session = sessionOf(request)
    const n = (Number(session.get('n')) || 0) + 1
    session.set('n', n)
    return reply.send({ n })
  })
  app.get('/whoami', function read(request, reply) {
    return reply.send({ user: sessionOf(request).get('user') ?? null })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { server: app.server, close: () => app.close() }
}

/** @fastify/session with @fastify/cookie and its default memory store. */
export async function fastifySession(secret: string): Promise<Listening> {
  const cookie = await plugin('@fastify/cookie')
  const session = await plugin('@fastify/session')
  return fastifyApp(async (app) => {
    await app.register(cookie)
    await app.register(session, {
      secret,
      saveUninitialized: false,
      cookie: { secure: false },
    })
  })
}

/** @fastify/secure-session: the session sealed in the cookie (libsodium secretbox). */
export async function fastifySecureSession(key: Buffer): Promise<Listening> {
  const secure = await plugin('@fastify/secure-session')
  return fastifyApp(async (app) => {
    await app.register(secure, { key, cookie: { path: '/', httpOnly: true } })
  })
}
