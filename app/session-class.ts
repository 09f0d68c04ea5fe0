/**
 * The admin session class (docs/options.md "classes"): with SESSION_ADMIN_SECRET set, users with
 * role `admin` log in to sessions of class `admin`, signed with that secret and ended sooner.
 * Removing or changing the secret (and restarting) ends every admin session and no other.
 */
import type { Request } from 'express'
import type { SessionClassOptions } from 'tether-session'
import type { AdminClassConfig, AppConfig } from './config.js'
import type { AppContext } from './context.js'
import { appSession } from './current-user.js'
import type { User } from './users.js'

/** The class name the app gives administrators' sessions. */
export const ADMIN_CLASS = 'admin'

/** Tether's `classes` option for this configuration; undefined without SESSION_ADMIN_SECRET. */
export function classesOption(config: AppConfig): Record<string, SessionClassOptions> | undefined {
  const admin = config.adminClass
  if (admin === null) return undefined
  return {
    [ADMIN_CLASS]: {
      secret: admin.secret,
      idleTimeout: admin.idleTimeoutMs,
      absoluteTimeout: admin.absoluteTimeoutMs,
    },
  }
}

/** The class `user` logs in to: admin for an administrator when the class exists, else default. */
function loginOptions(config: AppConfig, user: User): { class?: string } {
  return user.role === 'admin' && config.adminClass !== null ? { class: ADMIN_CLASS } : {}
}

/**
 * Logs `user` in on this request (a new session id, in the user's class) and keeps the user id in
 * the new session. Used by /login and after a password change, so neither demotes an admin.
 */
export async function logIn(ctx: AppContext, req: Request, user: User): Promise<void> {
  await req.session.login(user.id, loginOptions(ctx.config, user))
  // Set after login, on the new session: had login failed, the old one must not hold the user.
  appSession(req)!.userId = user.id
}

/** The timeouts of the admin class, when `sessionClass` is it and it is configured. */
export function adminLimits(config: AppConfig, sessionClass: string): AdminClassConfig | null {
  return sessionClass === ADMIN_CLASS ? config.adminClass : null
}

/**
 * The class of this request's session, as the store lists it (`listUserSessions`): one store
 * read, and only when classes are configured; otherwise every session is `default`.
 */
export async function currentSessionClass(
  ctx: AppContext,
  req: Request,
  user: User,
): Promise<string> {
  if (ctx.config.adminClass === null) return 'default'
  const ref = req.session.ref
  const list = await ctx.sessions.listUserSessions(user.id, { current: ref })
  return list.find((s) => s.current)?.sessionClass ?? 'default'
}
