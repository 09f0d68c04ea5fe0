/**
 * A plain node:http server with Tether's sessions, no framework: a visit counter, log in, log out.
 *
 *   npm run build && SESSION_SECRET=$(npx tether-session secret) node --import tsx examples/node-app/app.ts
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { mkdirSync } from 'node:fs'
import { json } from 'node:stream/consumers'
import { fileURLToPath } from 'node:url'
import type { SessionData, SessionStore } from 'tether-session'
import { createSessions, type NodeSession } from 'tether-session/node'
import { SqliteStore } from 'tether-session/stores/sqlite'

// What the sessions hold: `session.views` is `number | undefined` everywhere.
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

/** Runs the route for `req`; returns the JSON answer and its status. */
async function route(
  req: IncomingMessage,
  s: NodeSession & Partial<SessionData>,
): Promise<[number, unknown]> {
  const key = `${req.method} ${req.url}`
  if (key === 'GET /') {
    s.views = (s.views ?? 0) + 1
    return [200, { views: s.views, user: s.user ?? null }]
  }
  if (key === 'POST /login') {
    const body = (await json(req).catch(() => null)) as { username?: unknown } | null
    const username = body?.username
    if (typeof username !== 'string' || username === '') return [400, { error: 'username' }]
    // A real app checks a password here. login() gives the session a new id: no fixation.
    await s.login(username)
    s.user = username
    return [200, { user: username }]
  }
  if (key === 'POST /logout') {
    await s.logout() // ends it in the store; the response clears the cookie
    return [200, { user: null }]
  }
  return [404, { error: 'not found' }]
}

/** Builds the server; the caller owns the store and listens. */
export function createApp({ store, secret }: AppOptions): Server {
  const sessions = createSessions({ secret, store })
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // With `res`, the session is committed by itself before the response's headers leave.
      const [status, body] = await route(req, await sessions.load(req, res))
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    } catch (err) {
      // Tether's refusals and store failures (403, 429, 503); anything else is a 500.
      if (!sessions.sendError(err, req, res)) res.writeHead(500).end()
    }
  }
  return createServer((req, res) => void handle(req, res))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync('data', { recursive: true })
  const store = new SqliteStore({ path: 'data/sessions.db' })
  createApp({ store, secret: process.env['SESSION_SECRET'] ?? '' }).listen(3000, () =>
    console.log('http://localhost:3000'),
  )
}
