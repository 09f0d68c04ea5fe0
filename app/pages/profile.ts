import { formatAgo, formatDuration } from './format.js'
import { html } from './html.js'
import { layout, type PageContext } from './layout.js'

/** What the profile page shows. */
export interface ProfileView {
  userId: string
  username: string
  /** When this session last authenticated (login), epoch ms; undefined if unknown. */
  authAt: number | undefined
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  now: number
}

/** The logged-in user's profile and the limits of this session. */
export function profilePage(ctx: PageContext, view: ProfileView): string {
  return layout(
    'Profile',
    ctx,
    html`<h1>Hello, ${view.username}</h1>
      <dl class="card facts">
        <dt>Username</dt>
        <dd id="username">${view.username}</dd>
        <dt>User id</dt>
        <dd id="user-id">${view.userId}</dd>
        <dt>Logged in</dt>
        <dd>${view.authAt === undefined ? 'unknown' : formatAgo(view.authAt, view.now)}</dd>
        <dt>Session ends</dt>
        <dd>
          after ${formatDuration(view.idleTimeoutMs)} without activity, and at the latest
          ${formatDuration(view.absoluteTimeoutMs)} after it began
        </dd>
      </dl>
      <p><a href="/sessions" class="button">See every device you are logged in on</a></p>`,
  )
}
