/** Pieces the app's forms share: the notice above a form and a labelled password field. */
import { html, type SafeHtml } from './html.js'

/** What a form page says above its form. */
export interface FormNotice {
  kind: 'info' | 'error'
  text: string
}

/** The notice paragraph: an alert for an error, a status line otherwise; nothing without one. */
export function noticeLine(notice: FormNotice | undefined): SafeHtml | undefined {
  if (notice === undefined) return undefined
  const role = notice.kind === 'error' ? 'alert' : 'status'
  return html`<p class="notice ${notice.kind}" role="${role}">${notice.text}</p>`
}

/** A labelled password input; the value is never put back into the page. */
export function passwordField(field: {
  id: string
  name: string
  label: string
  autocomplete: 'current-password' | 'new-password'
  minChars?: number
  hint?: string
}): SafeHtml {
  const hintId = field.hint === undefined ? undefined : `${field.id}-hint`
  return html`<div class="field">
    <label for="${field.id}">${field.label}</label>
    <input
      id="${field.id}"
      name="${field.name}"
      type="password"
      autocomplete="${field.autocomplete}"
      ${field.minChars === undefined ? '' : html`minlength="${field.minChars}"`}
      ${hintId === undefined ? '' : html`aria-describedby="${hintId}"`}
      required
    />
    ${hintId === undefined ? '' : html`<span id="${hintId}" class="hint">${field.hint}</span>`}
  </div>`
}
