import { formatAgo, formatDuration } from './format.js'
import { html, type SafeHtml } from './html.js'
import { layout, type PageContext } from './layout.js'

/** What the profile page shows. */
export interface ProfileView {
  userId: string
  username: string
  /**
   * Milliseconds since this session authenticated (login or re-entered password); null when it
   * must re-authenticate first (used from another browser or network under SESSION_BINDING=step-up).
   */
  authAgeMs: number | null
  /** A session of the admin class (SESSION_ADMIN_SECRET), with the timeouts below as its own. */
  isAdminSession: boolean
  /** The timeouts of this session's class. */
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  now: number
  /** Said at the top, e.g. after a password change. */
  notice?: string | undefined
}

function signedIn(view: ProfileView): SafeHtml {
  if (view.authAgeMs === null) {
    return html`<p id="signed-in">
      This session is being used from another browser or network than the one it signed in from.
      <a href="/reauth?next=/profile">Confirm it's you</a> before changing your password.
    </p>`
  }
  return html`<p id="signed-in">Signed in ${formatAgo(view.now - view.authAgeMs, view.now)}.</p>`
}

function sessionKind(view: ProfileView): SafeHtml | false {
  return (
    view.isAdminSession &&
    html`<p id="session-class" class="notice info">
      Administrator session (ends after ${formatDuration(view.idleTimeoutMs)} idle,
      ${formatDuration(view.absoluteTimeoutMs)} at most).
    </p>`
  )
}

/** The logged-in user's profile and the limits of this session. */
export function profilePage(ctx: PageContext, view: ProfileView): string {
  return layout(
    'Profile',
    ctx,
    html`<h1>Hello, ${view.username}</h1>
      ${view.notice !== undefined && html`<p class="notice info" role="status">${view.notice}</p>`}
      ${signedIn(view)} ${sessionKind(view)}
      <dl class="card facts">
        <dt>Username</dt>
        <dd id="username">${view.username}</dd>
        <dt>User id</dt>
        <dd id="user-id">${view.userId}</dd>
        <dt>Session ends</dt>
        <dd>
          after ${formatDuration(view.idleTimeoutMs)} without activity, and at the latest
          ${formatDuration(view.absoluteTimeoutMs)} after it began
        </dd>
      </dl>
      <p class="actions">
        <a href="/sessions" class="button">See every device you are logged in on</a>
        <a href="/password">Change password</a>
      </p>`,
  )
}
