/** What the routes share: configuration, the session manager, CSRF, logging, and who is logged in. */
import type { Request } from 'express'
import type { TetherEvent, UserSessions } from 'tether-session'
import type { AppConfig } from './config.js'
import type { Csrf } from './csrf.js'
import { notLoggedIn } from './http.js'
import type { Logger } from './log.js'
import type { PageContext } from './pages/layout.js'
import { findUser, type User } from './users.js'

/** Built once by createApp and handed to each route module. */
export interface AppContext {
  config: AppConfig
  /** Per-user listing and revocation (the session middleware's `.manager`). */
  sessions: UserSessions
  csrf: Csrf
  logger: Logger
  onEvent: (event: TetherEvent) => void
}

/**
 * What this app keeps in a session: the user's id, set right after `login()`. (An app of your own
 * would declare it once with `declare module 'tether-session' { interface SessionData {...} }`;
 * this repository compiles the app together with Tether's src/, which that declaration does not
 * reach, so it names the type here.)
 */
interface AppSessionData {
  userId?: string
}

/** `req.session` with the app's data typed; undefined when the session failed to load. */
export function appSession(req: Request): (Request['session'] & AppSessionData) | undefined {
  return req.session as (Request['session'] & AppSessionData) | undefined
}

/** The logged-in user, or null. */
export function currentUser(req: Request): User | null {
  const userId = appSession(req)?.userId
  return userId === undefined ? null : findUser(userId)
}

/** The logged-in user; otherwise a 401 for the error handler. */
export function requireUser(req: Request): User {
  const user = currentUser(req)
  if (user === null) throw notLoggedIn()
  return user
}

/** The header, nav and form token of a page for this request. */
export function pageContext(app: AppContext, req: Request): PageContext {
  const user = currentUser(req)
  return {
    username: user?.username,
    csrfToken: user === null ? undefined : app.csrf.token(req),
    storeKind: app.config.store,
  }
}
