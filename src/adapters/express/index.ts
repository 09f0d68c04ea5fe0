/**
 * `tether-session/express`: a drop-in for express-session.
 *
 *   import session from 'tether-session/express'        // ESM
 *   const session = require('tether-session/express')   // CommonJS (Node >= 20.19)
 */
import { Cookie } from '../../http/cookie.js'
import { csrfToken } from '../../http/csrf-token.js'
import { tetherErrorHandler } from './error-handler.js'
import { session as createMiddleware } from './middleware.js'
import { requireFreshAuth } from './require-fresh-auth.js'
import { Session } from './session.js'
import { MemoryStore, Store } from './store.js'

export type { CookieOptions } from '../../http/cookie.js'
export type { SessionMiddleware } from './middleware.js'
export type { ExpressSessionOptions } from './options.js'
export type { CsrfOptions } from '../../csrf/options.js'
export type { CsrfFailure } from '../../http/csrf.js'
export type { TetherErrorHandler } from './error-handler.js'
export type { FreshAuthOptions, FreshAuthRequest } from './require-fresh-auth.js'

/**
 * The middleware factory, with express-session's classes attached (`session.Store`,
 * `session.MemoryStore`, ...) and Tether's helpers (`session.csrfToken`, `session.requireFreshAuth`,
 * for `require()` users).
 */
const session = Object.assign(createMiddleware, {
  Store,
  MemoryStore,
  Session,
  Cookie,
  csrfToken,
  requireFreshAuth,
  tetherErrorHandler,
  session: createMiddleware,
})

export default session
export {
  session,
  Store,
  MemoryStore,
  Session,
  Cookie,
  csrfToken,
  requireFreshAuth,
  tetherErrorHandler,
}
// `require('tether-session/express')` returns the factory itself, as with express-session.
export { session as 'module.exports' }

import type { SessionData } from '../../index.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The session; typed by `declare module 'tether-session' { interface SessionData { ... } }`. */
      session: Session & Partial<SessionData>
      /** The session id (kept for express-session compatibility; never log it). */
      sessionID: string
      /** The `store` option as given (express-session compatibility). */
      sessionStore: unknown
    }
  }
}
