/**
 * A Hono app on @hono/node-server with Tether's sessions: a visit counter, log in, log out.
 *
 *   npm run build && SESSION_SECRET=$(npx tether-session secret) node --import tsx examples/hono-app/app.ts
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { SessionStore } from 'tether-session'
import { session, type SessionEnv } from 'tether-session/hono'
import { SqliteStore } from 'tether-session/stores/sqlite'

// What the sessions hold: `c.get('session').views` is `number | undefined` everywhere.
declare module 'tether-session' {
  interface SessionData {
    views: number
    user: string
  }
}

export interface AppOptions {
  store: SessionStore
  secret: string | string[]
}

/** Builds the app; the caller owns the store. Tether's errors (403, 429, 503) answer themselves. */
export function createApp({ store, secret }: AppOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  app.use(session({ secret, store }))

  app.get('/', (c) => {
    const s = c.get('session')
    s.views = (s.views ?? 0) + 1
    return c.json({ views: s.views, user: s.user ?? null })
  })

  app.post('/login', async (c) => {
    const { username } = await c.req
      .json<{ username?: unknown }>()
      .catch(() => ({ username: null }))
    if (typeof username !== 'string' || username === '') return c.json({ error: 'username' }, 400)
    // A real app checks a password here. login() gives the session a new id: no fixation.
    const s = c.get('session')
    await s.login(username)
    s.user = username
    return c.json({ user: username })
  })

  app.post('/logout', async (c) => {
    await c.get('session').logout() // ends it in the store; the response clears the cookie
    return c.json({ user: null })
  })
  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync('data', { recursive: true })
  const store = new SqliteStore({ path: 'data/sessions.db' })
  const app = createApp({ store, secret: process.env['SESSION_SECRET'] ?? '' })
  serve({ fetch: app.fetch, port: 3000 }, () => console.log('http://localhost:3000'))
}
