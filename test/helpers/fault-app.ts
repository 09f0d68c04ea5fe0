/**
 * The Express app the fault tests load: Tether from its published entry points on a real server on
 * 127.0.0.1. Routes: `POST /login?user=` (a capped login when `maxSessionsPerUser` is set),
 * `POST /write?k=` (sets one data key, so concurrent writes never overwrite each other), `GET /read`,
 * `GET /dump` (the data keys). Tether's errors are answered by `tetherErrorHandler()`; anything else
 * reaching the last handler is a 500, counted in `unexpected`.
 */
import express from 'express'
import session, { tetherErrorHandler, type ExpressSessionOptions } from 'tether-session/express'
import type { TetherEvent } from 'tether-session'
import { listen } from './http.js'
import { newSecret } from './secrets.js'

/** Epoch ms at which a request reached the app's first middleware and its response finished. */
export interface Handled {
  at: number
  doneAt: number
}

type AppSession = Record<string, unknown> & { user?: string; ref: string }

export interface FaultApp {
  port: number
  events: TetherEvent[]
  /** When each request sent with an `x-load-id` header reached the app and left it, by that id. */
  handled: Map<string, Handled>
  /** Errors that were not Tether's, answered 500 (none is ever expected). */
  unexpected: unknown[]
  manager: ReturnType<typeof session>['manager']
  close(): Promise<void>
}

function queryText(req: express.Request, name: string): string {
  const value = req.query[name]
  if (typeof value !== 'string') throw new Error(`query parameter "${name}" is missing`)
  return value
}

export async function startFaultApp(
  options: Pick<
    ExpressSessionOptions,
    'store' | 'storeTimeout' | 'onStoreError' | 'maxSessionsPerUser' | 'onSessionLimit'
  >,
): Promise<FaultApp> {
  const events: TetherEvent[] = []
  const unexpected: unknown[] = []
  const middleware = session({
    secret: newSecret(),
    ...options,
    onEvent: (e) => events.push(e),
  })
  const handled = new Map<string, Handled>()
  const app = express()
  app.use(function timeHandling(req, res, next) {
    // From the first middleware to the last byte handed to the socket: the app's and Tether's
    // time, without the wait in the connection's queue before the process reads the request.
    const id = req.headers['x-load-id']
    if (typeof id === 'string') {
      const at = Date.now()
      res.once('finish', () => handled.set(id, { at, doneAt: Date.now() }))
    }
    next()
  })
  app.use(middleware)
  app.post('/login', async function login(req, res) {
    const user = queryText(req, 'user')
    await req.session.login(user)
    const s = req.session as unknown as AppSession
    s.user = user
    res.json({ user, ref: s.ref })
  })
  app.post('/write', function write(req, res) {
    const s = req.session as unknown as AppSession
    s[queryText(req, 'k')] = 1
    res.json({ user: s.user ?? null })
  })
  app.get('/read', function read(req, res) {
    const s = req.session as unknown as AppSession
    res.json({ user: s.user ?? null, ref: s.user === undefined ? null : s.ref })
  })
  app.get('/dump', function dump(req, res) {
    const s = req.session as unknown as AppSession
    res.json({ user: s.user ?? null, keys: Object.keys(s) })
  })
  app.use(tetherErrorHandler())
  app.use(function lastResort(
    err: unknown,
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) {
    unexpected.push(err)
    res.status(500).json({ error: 'unexpected' })
  })
  const srv = await listen(app)
  return {
    port: srv.port,
    events,
    handled,
    unexpected,
    manager: middleware.manager,
    close: () => srv.close(),
  }
}
