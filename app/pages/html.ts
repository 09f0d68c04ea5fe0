/**
 * A tagged template that escapes every interpolated value, so a page cannot forget to: only
 * another `html` result (or a list of them) is inserted as markup.
 */

/** Markup that is already safe: produced by `html`, never from a raw string. */
export class SafeHtml {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

/** What a page may interpolate. `null`, `undefined` and `false` render as nothing. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly SafeHtml[]

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for an HTML element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, function entity(c) {
    return ENTITIES[c] ?? c
  })
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return ''
  if (value instanceof SafeHtml) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

/** `html\`<p>${name}</p>\``: the template's text as written, each value escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '')
  return new SafeHtml(out)
}
