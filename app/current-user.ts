/** Who is logged in: the user id the app keeps in the session after `login()`. */
import type { Request } from 'express'
import { notLoggedIn } from './http.js'
import { findUser, type User } from './users.js'

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
  return req.session
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
