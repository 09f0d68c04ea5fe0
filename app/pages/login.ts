import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'

/** What the login page says above its form. */
export interface LoginNotice {
  kind: 'info' | 'error'
  text: string
}

/** The login form; `username` is kept after a failed attempt, the password never is. */
export function loginPage(
  ctx: PageContext,
  opts: { notice?: LoginNotice | undefined; username?: string | undefined } = {},
): string {
  const notice = opts.notice
  return layout(
    'Log in',
    ctx,
    html`<div class="narrow">
      <h1>Log in</h1>
      ${notice && html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>`}
      <form method="post" action="/login" class="card stack">
        ${csrfField(ctx)}
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            required
            value="${opts.username ?? ''}"
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <button type="submit">Log in</button>
      </form>
      <p class="hint">
        Demo users: <code>alice</code> / <code>correct-horse</code>, <code>bob</code> /
        <code>battery-staple</code> and the administrator <code>admin</code> /
        <code>correct-horse-admin</code>.
      </p>
    </div>`,
  )
}
