/**
 * A Next.js route handler module (app/api/session/route.ts) on `tether-session/fetch`: GET counts
 * a visit and shows the user, POST logs in, DELETE logs out. `sessions.route()` loads the session,
 * commits it onto the handler's Response, and answers Tether's refusals (403, 429, 503) itself.
 * Nothing here needs Next.js: any server that calls `(request: Request) => Response` will do.
 */
import { sessions } from './session.js'

export const GET = sessions.route((_request, session) => {
  session.views = (session.views ?? 0) + 1
  return Response.json({ views: session.views, user: session.user ?? null })
})

export const POST = sessions.route(async (request, session) => {
  const body = (await request.json().catch(() => null)) as { username?: unknown } | null
  const username = body?.username
  if (typeof username !== 'string' || username === '')
    return Response.json({ error: 'username' }, { status: 400 })
  // A real app checks a password here. login() gives the session a new id: no fixation.
  await session.login(username)
  session.user = username
  return Response.json({ user: username })
})

export const DELETE = sessions.route(async (_request, session) => {
  await session.logout() // ends it in the store; the response clears the cookie
  return Response.json({ user: null })
})
