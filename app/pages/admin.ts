import { html, type SafeHtml } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'

/** One user as the administrator's page lists it (the JSON route's fields). */
export interface AdminUserRow {
  userId: string
  username: string
  role: string
  /** Live sessions of the user. */
  sessions: number
}

function row(ctx: PageContext, u: AdminUserRow): SafeHtml {
  return html`<tr>
    <td>${u.username}</td>
    <td>${u.role === 'admin' ? 'Administrator' : 'User'}</td>
    <td>${u.sessions}</td>
    <td>
      <form
        method="post"
        action="/admin/users/${encodeURIComponent(u.username)}/revoke"
        class="inline"
      >
        ${csrfField(ctx)}
        <button
          type="submit"
          class="danger"
          aria-label="End every session of ${u.username}"
          ${u.sessions === 0 ? html`disabled` : ''}
        >
          End sessions
        </button>
      </form>
    </td>
  </tr>`
}

/**
 * "Administration": every user with their number of live sessions, ending one user's sessions,
 * and the switch that ends everyone's. `checkSeconds` is how long other app instances may still
 * accept an old session after the switch (tether-session's revocationCheckInterval).
 */
export function adminPage(
  ctx: PageContext,
  users: readonly AdminUserRow[],
  opts: { notice?: string | undefined; checkSeconds: number },
): string {
  return layout(
    'Administration',
    ctx,
    html`<h1>Administration</h1>
      ${opts.notice !== undefined && html`<p class="notice info" role="status">${opts.notice}</p>`}
      <p>
        Ending a user's sessions logs them out on every device at their next request; they can log
        in again. Use it when an account may be in the wrong hands, together with a new password.
      </p>
      <table class="card sessions">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Live sessions</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${users.map((u) => row(ctx, u))}
        </tbody>
      </table>
      <h2>End every session</h2>
      <p>
        Logs out every user on every device, yours included, without a restart or a new secret. This
        instance refuses old sessions at once; other instances of the app within
        ${opts.checkSeconds} seconds. Everyone then logs in again.
      </p>
      <form method="post" action="/admin/revoke-all">
        ${csrfField(ctx)}
        <button type="submit" class="danger">End every session of every user</button>
      </form>`,
  )
}
