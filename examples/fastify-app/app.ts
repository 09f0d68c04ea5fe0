/**
 * A Fastify app with Tether's sessions: a visit counter, log in, log out. Code written for
 * @fastify/session runs as it is; only the import changes.
 *
 *   npm run build && SESSION_SECRET=$(npx tether-session secret) node --import tsx examples/fastify-app/app.ts
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { SessionStore } from 'tether-session'
import fastifySession from 'tether-session/fastify'
import { SqliteStore } from 'tether-session/stores/sqlite'

/**
 * What the sessions hold. Your own app declares it once and `request.session` is typed everywhere:
 * `declare module 'tether-session' { interface SessionData { views: number; user: string } }`.
 * This repository compiles its examples together with Tether's src/, whose `request.session` type
 * that declaration (made for the published package) does not reach, so the type is named here.
 */
function sessionOf(
  request: FastifyRequest,
): FastifyRequest['session'] & { views?: number; user?: string } {
  return request.session
}

export interface AppOptions {
  store: SessionStore
  secret: string | string[]
}

/** Builds the app; the caller owns the store. Tether's errors go through Fastify's error handler. */
export async function createApp({ store, secret }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifySession, { secret, store })

  app.get('/', (request) => {
    const s = sessionOf(request)
    s.views = (s.views ?? 0) + 1
    return { views: s.views, user: s.user ?? null }
  })

  app.post<{ Body: { username?: unknown } | null }>('/login', async (request, reply) => {
    const username = request.body?.username
    if (typeof username !== 'string' || username === '')
      return reply.code(400).send({ error: 'username' })
    // A real app checks a password here. login() gives the session a new id: no fixation.
    await request.session.login(username)
    sessionOf(request).user = username // the new session object, as after regenerate()
    return { user: username }
  })

  app.post('/logout', async (request) => {
    await request.session.logout() // ends it in the store; the response clears the cookie
    return { user: null }
  })
  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync('data', { recursive: true })
  const store = new SqliteStore({ path: 'data/sessions.db' })
  const app = await createApp({ store, secret: process.env['SESSION_SECRET'] ?? '' })
  console.log(await app.listen({ port: 3000 }))
}
