/**
 * The app's sessions, created once per server process (a Next.js app keeps this in
 * lib/session.ts): SQLite at SESSIONS_DB (default ./sessions.db), signed with SESSION_SECRET.
 */
import { createSessions } from 'tether-session/fetch'
import { SqliteStore } from 'tether-session/stores/sqlite'

// What the sessions hold: `session.views` is `number | undefined` in every handler.
declare module 'tether-session' {
  interface SessionData {
    views: number
    user: string
  }
}

export const store = new SqliteStore({ path: process.env['SESSIONS_DB'] ?? 'sessions.db' })
export const sessions = createSessions({ secret: process.env['SESSION_SECRET'] ?? '', store })
