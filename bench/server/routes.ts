/**
 * What every scenario's routes do, whatever the framework: `/login` puts a small user record in
 * the session, `/me` increments a counter (a write on every request), `/whoami` reads the user.
 */

/** The small user record a login stores. */
export const USER = { id: 'u1', name: 'Alice Example', role: 'member' } as const

/** A session seen as a plain bag of keys (each library types its own differently). */
export type Bag = Record<string, unknown>

/** Increments the session's counter and returns the new value. */
export function bump(session: Bag): number {
  const n = (typeof session['n'] === 'number' ? session['n'] : 0) + 1
  session['n'] = n
  return n
}

/** The answer of `/whoami`. */
export function whoami(session: Bag | undefined): { user: unknown } {
  return { user: session?.['user'] ?? null }
}

/** The answer of every route of a floor (no sessions). */
export const FLOOR_BODY = { user: null }
