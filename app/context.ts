/**
 * What the routes share: configuration, the session manager, the users' passwords, the failed
 * password counters and logging; and each page's context.
 */
import type { Request } from 'express'
import type { TetherEvent, UserSessions } from 'tether-session'
import type { AppConfig } from './config.js'
import { tokenFor } from './csrf.js'
import { currentUser } from './current-user.js'
import type { Logger } from './log.js'
import type { LoginLimits } from './login-limits.js'
import type { PageContext } from './pages/layout.js'
import type { UserTable } from './users.js'

/** Built once by createApp and handed to each route module. */
export interface AppContext {
  config: AppConfig
  /** Per-user listing and revocation (the session middleware's `.manager`). */
  sessions: UserSessions
  /** Password hashes, in memory for this app instance. */
  users: UserTable
  /** Wrong passwords on /login, /password and /reauth, counted together. */
  limits: LoginLimits
  logger: Logger
  onEvent: (event: TetherEvent) => void
}

/** The header, nav and form token of a page for this request. */
export function pageContext(app: AppContext, req: Request): PageContext {
  const user = currentUser(req)
  return {
    username: user?.username,
    sessionKnown: req.session !== undefined,
    csrfToken: tokenFor(req),
    storeKind: app.config.store,
    isAdmin: user?.role === 'admin',
  }
}
