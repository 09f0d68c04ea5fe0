import { formatDuration } from './format.js'
import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'
import type { LoginNotice } from './login.js'

/** What the password page shows besides its form. */
export interface PasswordView {
  notice?: LoginNotice | undefined
  /** SESSION_REAUTH_MAX_AGE: how recent the login must be. */
  reauthMaxAgeMs: number
  /** The shortest new password accepted. */
  minChars: number
}

/** "Change password": current, new and confirmation; no password is ever put back in the form. */
export function passwordPage(ctx: PageContext, view: PasswordView): string {
  const notice = view.notice
  return layout(
    'Change password',
    ctx,
    html`<div class="narrow">
      <h1>Change password</h1>
      ${notice && html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>`}
      <form method="post" action="/password" class="card stack">
        ${csrfField(ctx)}
        <div class="field">
          <label for="current-password">Current password</label>
          <input
            id="current-password"
            name="currentPassword"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <div class="field">
          <label for="new-password">New password</label>
          <input
            id="new-password"
            name="newPassword"
            type="password"
            autocomplete="new-password"
            minlength="${view.minChars}"
            aria-describedby="new-password-hint"
            required
          />
          <span id="new-password-hint" class="hint"
            >At least ${view.minChars} characters, not your username.</span
          >
        </div>
        <div class="field">
          <label for="confirm-password">Confirm new password</label>
          <input
            id="confirm-password"
            name="confirmPassword"
            type="password"
            autocomplete="new-password"
            minlength="${view.minChars}"
            required
          />
        </div>
        <button type="submit">Change password</button>
      </form>
      <p class="hint">
        Every other device you are logged in on is logged out, and this one gets a new session. If
        you logged in more than ${formatDuration(view.reauthMaxAgeMs)} ago, you are asked for your
        password first. This demo keeps passwords in memory: a change lasts until the app restarts.
      </p>
    </div>`,
  )
}
