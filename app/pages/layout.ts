import { html, type SafeHtml } from './html.js'

/** What every page knows about the request: who is logged in and the form token. */
export interface PageContext {
  /** The logged-in user's name, or undefined on a logged-out page. */
  username?: string | undefined
  /**
   * False when the request was answered before its session was loaded (a cross-site refusal, a
   * store outage): the header then claims neither logged in nor out.
   */
  sessionKnown?: boolean
  /** The CSRF token every form on the page carries (as `_csrf`). */
  csrfToken?: string | undefined
  /** Where sessions live (shown in the footer): sqlite, memory, redis or postgres. */
  storeKind: string
  /** The logged-in user is the administrator: the header links to /admin. */
  isAdmin?: boolean
}

/** The hidden form field that carries the CSRF token, or nothing when there is none. */
export function csrfField(ctx: PageContext): SafeHtml {
  return ctx.csrfToken === undefined
    ? html``
    : html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}" />`
}

function nav(ctx: PageContext): SafeHtml {
  if (ctx.sessionKnown === false) return html`<nav></nav>`
  if (ctx.username === undefined) return html`<nav><a href="/login">Log in</a></nav>`
  return html`<nav>
    <a href="/profile">Profile</a>
    <a href="/sessions">Your sessions</a>
    ${ctx.isAdmin === true && html`<a href="/admin">Admin</a>`}
    <form method="post" action="/logout" class="inline">
      ${csrfField(ctx)}<button type="submit" class="link">Log out</button>
    </form>
  </nav>`
}

/** A whole HTML document around `body`. */
export function layout(title: string, ctx: PageContext, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Tether</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <header>
          <a href="/" class="brand">Tether</a>
          ${nav(ctx)}
        </header>
        <main>${body}</main>
        <footer>
          tether-session reference app · sessions in <strong>${ctx.storeKind}</strong>
        </footer>
      </body>
    </html> `.value
}
