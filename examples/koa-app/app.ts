/**
 * A Koa app with Tether's sessions: a visit counter, log in, log out.
 *
 *   npm run build && SESSION_SECRET=$(npx tether-session secret) node --import tsx examples/koa-app/app.ts
 */
import { mkdirSync } from 'node:fs'
import { json } from 'node:stream/consumers'
import { fileURLToPath } from 'node:url'
import Koa from 'koa'
import type { SessionStore } from 'tether-session'
import { session } from 'tether-session/koa'
import { SqliteStore } from 'tether-session/stores/sqlite'

/**
 * What the sessions hold. Your own app declares it once and `ctx.session` is typed everywhere:
 * `declare module 'tether-session' { interface SessionData { views: number; user: string } }`.
 * This repository compiles its examples together with Tether's src/, whose `ctx.session` type
 * that declaration (made for the published package) does not reach, so the type is named here.
 */
type AppSession = NonNullable<Koa.Context['session']> & { views?: number; user?: string }

export interface AppOptions {
  store: SessionStore
  secret: string | string[]
}

/** The `username` of a JSON body, or undefined. */
async function usernameOf(ctx: Koa.Context): Promise<string | undefined> {
  const body = (await json(ctx.req).catch(() => null)) as { username?: unknown } | null
  return typeof body?.username === 'string' && body.username !== '' ? body.username : undefined
}

/** Builds the app; the caller owns the store. Tether's errors (403, 429, 503) answer themselves. */
export function createApp({ store, secret }: AppOptions): Koa {
  const app = new Koa()
  app.use(session({ secret, store }))

  app.use(async function routes(ctx) {
    const s = ctx.session as AppSession
    if (ctx.method === 'GET' && ctx.path === '/') {
      s.views = (s.views ?? 0) + 1
      ctx.body = { views: s.views, user: s.user ?? null }
    } else if (ctx.method === 'POST' && ctx.path === '/login') {
      const username = await usernameOf(ctx)
      if (username === undefined) {
        ctx.status = 400
        ctx.body = { error: 'username' }
        return
      }
      // A real app checks a password here. login() gives the session a new id: no fixation.
      await s.login(username)
      s.user = username
      ctx.body = { user: username }
    } else if (ctx.method === 'POST' && ctx.path === '/logout') {
      ctx.session = null // as in koa-session: ends it in the store and clears the cookie
      ctx.body = { user: null }
    }
  })
  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync('data', { recursive: true })
  const store = new SqliteStore({ path: 'data/sessions.db' })
  createApp({ store, secret: process.env['SESSION_SECRET'] ?? '' }).listen(3000, () =>
    console.log('http://localhost:3000'),
  )
}
