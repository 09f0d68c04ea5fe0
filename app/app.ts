/**
 * The reference app: Express 5 + helmet + tether-session. Log in, see your profile, see every
 * device you are logged in on, revoke one or all others, change your password (after confirming
 * it is you), log out; JSON for programs and HTML pages for people on the same routes (DESIGN.md
 * "Reference app", docs/reference-app.md).
 */
import { fileURLToPath } from 'node:url'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import helmet from 'helmet'
import type { DestinationStream } from 'pino'
import type { Clock, SessionStore, UserSessions } from 'tether-session'
import session from 'tether-session/express'
import type { AppConfig } from './config.js'
import { pageContext, type AppContext } from './context.js'
import { csrfOption } from './csrf.js'
import { errorHandler } from './errors.js'
import { HttpError } from './http.js'
import { createLogger, eventLogger, type Logger } from './log.js'
import { createLoginLimits } from './login-limits.js'
import { adminRoutes, REVOCATION_CHECK_MS } from './routes/admin.js'
import { authRoutes } from './routes/auth.js'
import { passwordRoutes } from './routes/password.js'
import { sessionRoutes } from './routes/sessions.js'
import { classesOption } from './session-class.js'
import { settingRefused, storeRefused } from './refusals.js'
import { openStore, type OpenedStore } from './stores.js'
import { createUserTable } from './users.js'

/** Test seams; `npm start` passes none. */
export interface AppOptions {
  /** Where log lines go. @default stdout */
  logStream?: DestinationStream
  /** Keeps apps sharing one Redis or PostgreSQL apart (see stores.ts). @default none */
  namespace?: string
  /** A store to use instead of the one `config.store` names (the caller closes it). */
  store?: SessionStore
  /** Tether's time source, so tests can make a login old without waiting. @default Date.now */
  clock?: Clock
}

/** The app, ready to `listen`, and how to release its store. */
export interface RunningApp {
  app: Express
  logger: Logger
  /** Per-user listing and revocation, as the routes use them. */
  sessions: UserSessions
  /** Closes the session manager and the store (call after the HTTP server has closed). */
  close(): Promise<void>
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url))

/** Pages and answers carry personal data: never stored by a browser or shared cache. */
function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store')
  next()
}

async function storeFor(config: AppConfig, opts: AppOptions, logger: Logger): Promise<OpenedStore> {
  if (opts.store !== undefined) return { store: opts.store, close: async () => {} }
  try {
    return await openStore(config.store, {
      dataDir: config.dataDir,
      redisUrl: config.redisUrl,
      databaseUrl: config.databaseUrl,
      namespace: opts.namespace,
      onConnectionError: function connectionError(err) {
        logger.error({ error: err.message }, 'lost the connection to the session store')
      },
    })
  } catch (err) {
    throw storeRefused(config.store, err)
  }
}

/** Builds the app on the configured store. */
export async function createApp(config: AppConfig, opts: AppOptions = {}): Promise<RunningApp> {
  const logger = createLogger(opts.logStream)
  const onEvent = eventLogger(logger)
  const opened = await storeFor(config, opts, logger)
  const classes = classesOption(config)
  let sessions: ReturnType<typeof session>
  try {
    sessions = session({
      secret: config.secrets,
      store: opened.store,
      idleTimeout: config.idleTimeoutMs,
      absoluteTimeout: config.absoluteTimeoutMs,
      binding: config.binding,
      renewAfter: config.renewAfterMs,
      // Kept across browser restarts, never past the absolute timeout (Tether caps Expires at it).
      cookie: { maxAge: config.absoluteTimeoutMs },
      csrf: csrfOption(),
      // Mobile and API clients without cookies (docs/reference-app.md "Header tokens").
      bearer: true,
      revocationCheckInterval: REVOCATION_CHECK_MS,
      ...(config.maxSessionsPerUser === null
        ? {}
        : {
            maxSessionsPerUser: config.maxSessionsPerUser,
            onSessionLimit: config.sessionLimitPolicy,
          }),
      ...(classes === undefined ? {} : { classes }),
      onEvent,
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    })
  } catch (err) {
    await opened.close() // a refused option must not leave a connection open
    throw settingRefused(err)
  }
  const ctx: AppContext = {
    config,
    sessions: sessions.manager,
    users: createUserTable(),
    limits: createLoginLimits(onEvent, logger),
    logger,
    onEvent,
  }

  const app = express()
  app.set('trust proxy', config.trustProxy)
  app.use(
    helmet({
      // Over plain http (development) an upgrade would send forms to an https port nobody serves.
      contentSecurityPolicy: {
        directives: { upgradeInsecureRequests: config.production ? [] : null },
      },
    }),
  )
  // The stylesheet needs no session: served before one is loaded.
  app.use(express.static(PUBLIC_DIR, { index: false, maxAge: '1h' }))
  app.use(noStore)
  // Bodies are parsed before the session: its token check reads the `_csrf` form field.
  app.use(express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '4kb' }))
  app.use(sessions)
  app.use(authRoutes(ctx))
  app.use(sessionRoutes(ctx))
  app.use(passwordRoutes(ctx))
  app.use(adminRoutes(ctx))
  app.use(function notFound() {
    throw new HttpError(404, 'not_found', 'There is nothing at this address.')
  })
  app.use(errorHandler(logger, (req) => pageContext(ctx, req)))

  return {
    app,
    logger,
    sessions: sessions.manager,
    async close() {
      await sessions.manager.close()
      await opened.close()
    },
  }
}
