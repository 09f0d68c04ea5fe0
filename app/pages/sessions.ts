import { browserOf, classLabel, deviceOf, formatAgo, formatInstant } from './format.js'
import { html, type SafeHtml } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'

/** One session as the page lists it (the JSON route's fields). */
export interface SessionRow {
  ref: string
  current: boolean
  createdAt: number
  lastSeenAt: number
  userAgent: string | null
  ip: string | null
  /** `admin` or `default`; listed only when the app has session classes (SESSION_ADMIN_SECRET). */
  sessionClass?: string
}

function row(ctx: PageContext, s: SessionRow, now: number): SafeHtml {
  return html`<tr class="${s.current ? 'current' : ''}">
    <td>${deviceOf(s.userAgent)}${s.current && html` <span class="badge">this device</span>`}</td>
    ${s.sessionClass !== undefined && html`<td class="session-class">${classLabel(s.sessionClass)}</td>`}
    <td title="${s.userAgent ?? ''}">${browserOf(s.userAgent)}</td>
    <td><code>${s.ip ?? 'unknown'}</code></td>
    <td title="${formatInstant(s.createdAt)}">${formatAgo(s.createdAt, now)}</td>
    <td title="${formatInstant(s.lastSeenAt)}">${formatAgo(s.lastSeenAt, now)}</td>
    <td>
      <form method="post" action="/sessions/${encodeURIComponent(s.ref)}/revoke" class="inline">
        ${csrfField(ctx)}
        <button
          type="submit"
          class="danger"
          aria-label="Revoke the session on ${deviceOf(s.userAgent)}, ${browserOf(s.userAgent)}"
        >
          Revoke
        </button>
      </form>
    </td>
  </tr>`
}

/** "Your sessions": every device the user is logged in on, with revocation. */
export function sessionsPage(
  ctx: PageContext,
  sessions: readonly SessionRow[],
  now: number,
  notice?: string,
): string {
  const others = sessions.filter((s) => !s.current).length
  const hasClasses = sessions.some((s) => s.sessionClass !== undefined)
  return layout(
    'Your sessions',
    ctx,
    html`<h1>Your sessions</h1>
      ${notice !== undefined && html`<p class="notice info" role="status">${notice}</p>`}
      <p>
        You are logged in on ${sessions.length} ${sessions.length === 1 ? 'device' : 'devices'}.
        Revoke any you do not recognise: that device is logged out at its next request. If someone
        else may know your password, <a href="/password">change your password</a>: that logs out
        every other device too.
      </p>
      <table class="card sessions">
        <thead>
          <tr>
            <th>Device</th>
            ${hasClasses && html`<th>Kind</th>`}
            <th>Browser</th>
            <th>Network</th>
            <th>Created</th>
            <th>Last seen</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map((s) => row(ctx, s, now))}
        </tbody>
      </table>
      <form method="post" action="/sessions/revoke-others">
        ${csrfField(ctx)}
        <button type="submit" class="danger" ${others === 0 ? html`disabled` : ''}>
          Log out everywhere else
        </button>
      </form>`,
  )
}
