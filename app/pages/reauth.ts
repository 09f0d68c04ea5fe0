import { noticeLine, passwordField } from './form.js'
import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'
import type { FormNotice } from './form.js'

/** "Confirm it's you": the password again before a sensitive page; `next` is already checked. */
export function reauthPage(
  ctx: PageContext,
  opts: { next: string; notice?: FormNotice | undefined },
): string {
  const notice = opts.notice
  return layout(
    "Confirm it's you",
    ctx,
    html`<div class="narrow">
      <h1>Confirm it's you</h1>
      ${noticeLine(notice)}
      <p>
        What comes next changes how you sign in. Please enter your password again to continue as
        <strong>${ctx.username}</strong>.
      </p>
      <form method="post" action="/reauth" class="card stack">
        ${csrfField(ctx)}
        <input type="hidden" name="next" value="${opts.next}" />
        ${passwordField({
          id: 'password',
          name: 'password',
          label: 'Password',
          autocomplete: 'current-password',
        })}
        <button type="submit">Continue</button>
      </form>
    </div>`,
  )
}
