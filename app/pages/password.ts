import { formatDuration } from './format.js'
import { noticeLine, passwordField } from './form.js'
import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'
import type { FormNotice } from './form.js'

/** What the password page shows besides its form. */
export interface PasswordView {
  notice?: FormNotice | undefined
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
      ${noticeLine(notice)}
      <form method="post" action="/password" class="card stack">
        ${csrfField(ctx)}
        ${passwordField({
          id: 'current-password',
          name: 'currentPassword',
          label: 'Current password',
          autocomplete: 'current-password',
        })}
        ${passwordField({
          id: 'new-password',
          name: 'newPassword',
          label: 'New password',
          autocomplete: 'new-password',
          minChars: view.minChars,
          hint: `At least ${view.minChars} characters, not your username.`,
        })}
        ${passwordField({
          id: 'confirm-password',
          name: 'confirmPassword',
          label: 'Confirm new password',
          autocomplete: 'new-password',
          minChars: view.minChars,
        })}
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
