import { html } from './html.js'
import { layout, type PageContext } from './layout.js'

/** A page for a refused or failed request: what happened and what to do, never internals. */
export function errorPage(
  ctx: PageContext,
  status: number,
  title: string,
  message: string,
): string {
  return layout(
    title,
    ctx,
    html`<h1>${title}</h1>
      <p class="notice error" role="alert">${message}</p>
      <p class="hint">HTTP ${status}</p>
      <p><a href="/">Back to the start page</a></p>`,
  )
}
