// Compile-only (checked by `tsc --noEmit -p test/types`): `SessionData`, declared once, types the
// session in every framework's adapter. `@ts-expect-error` marks what must not compile.
import { createServer } from 'node:http'
import { Hono } from 'hono'
import Koa from 'koa'
import { csrfToken } from 'tether-session/csrf'
import { createSessions as fetchSessions } from 'tether-session/fetch'
import { session as honoSession, type SessionEnv } from 'tether-session/hono'
import { session as koaSession } from 'tether-session/koa'
import { createSessions as nodeSessions } from 'tether-session/node'

declare module 'tether-session' {
  interface SessionData {
    views: number
  }
}

const secret = 'x'.repeat(43)

// Hono: `new Hono<SessionEnv>()` types `c.get('session')` and `c.var.session`.
const hono = new Hono<SessionEnv>()
hono.use(honoSession({ secret, clientIp: (c) => c.req.header('x-real-ip') }))
hono.get('/', async (c) => {
  const session = c.get('session')
  const views: number | undefined = session.views
  // @ts-expect-error views may be undefined before the first visit
  const sure: number = c.var.session.views
  session.views = (views ?? 0) + 1
  // @ts-expect-error SessionData says views is a number
  session.views = 'many'
  await session.login('u1')
  // @ts-expect-error a user id is a string
  await session.login(42)
  return c.json({ views: session.views, sure, token: csrfToken(c) })
})

// Koa: `ctx.session` is the session, or null once a middleware set it to null (ending it).
const koa = new Koa()
koa.use(koaSession({ secret }))
koa.use(async (ctx) => {
  const views: number | undefined = ctx.session?.views
  if (ctx.session !== null) ctx.session.views = (views ?? 0) + 1
  await ctx.session?.logout()
  ctx.session = null
  ctx.body = csrfToken(ctx)
})
koa.use((ctx) => {
  // @ts-expect-error ctx.session is null once a middleware set it to null
  ctx.session.views = 1
})

// Fetch (Next.js route handlers, Bun, Deno): the handler's session and load()'s.
const sessions = fetchSessions({ secret })
export const GET = sessions.route((_request, session) => {
  const views: number | undefined = session.views
  // @ts-expect-error SessionData says views is a number
  session.views = 'many'
  return Response.json({ views, token: csrfToken(session) })
})
export async function POST(request: Request): Promise<Response> {
  const session = await sessions.load(request)
  session.views = (session.views ?? 0) + 1
  return session.commit(Response.redirect(new URL('/', request.url), 303))
}
// @ts-expect-error a route handler answers with a Response
sessions.route(() => 'text')

// node:http: load(req) or load(req, res); commit(res).
const nodeS = nodeSessions({ secret, proxy: true })
createServer((req, res) => {
  void nodeS.load(req).then(async (session) => {
    const views: number | undefined = session.views
    // @ts-expect-error SessionData says views is a number
    session.views = 'many'
    await session.commit(res)
    res.end(String(views))
  })
})
// @ts-expect-error proxy is true or false
nodeSessions({ secret, proxy: 'loopback' })
