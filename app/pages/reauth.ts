import { html } from './html.js'
import { csrfField, layout, type PageContext } from './layout.js'
import type { LoginNotice } from './login.js'

/** "Confirm it's you": the password again before a sensitive page; `next` is already checked. */
export function reauthPage(
  ctx: PageContext,
  opts: { next: string; notice?: LoginNotice | undefined },
): string {
  const notice = opts.notice
  return layout(
    "Confirm it's you",
    ctx,
    html`<div class="narrow">
      <h1>Confirm it's you</h1>
      ${notice && html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>`}
      <p>
        What comes next changes how you sign in. Please enter your password again to continue as
        <strong>${ctx.username}</strong>.
      </p>
      <form method="post" action="/reauth" class="card stack">
        ${csrfField(ctx)}
        <input type="hidden" name="next" value="${opts.next}" />
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
        <button type="submit">Continue</button>
      </form>
    </div>`,
  )
}
