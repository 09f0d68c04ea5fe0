import { noticeLine, passwordField, type FormNotice } from './form.js'
import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'

/** The login form; `username` is kept after a failed attempt, the password never is. */
export function loginPage(
  ctx: PageContext,
  opts: { notice?: FormNotice | undefined; username?: string | undefined } = {},
): string {
  const notice = opts.notice
  return layout(
    'Log in',
    ctx,
    html`<div class="narrow">
      <h1>Log in</h1>
      ${noticeLine(notice)}
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
        ${passwordField({
          id: 'password',
          name: 'password',
          label: 'Password',
          autocomplete: 'current-password',
        })}
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
