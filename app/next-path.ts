/**
 * Where /reauth may send the browser afterwards. Only a path on this site: `//evil.example`,
 * `/\evil.example` (browsers read `\` as `/`) and `https://…` are other sites, and tabs or
 * newlines are dropped by browsers before parsing (WHATWG URL), which can make `/\t/x` into `//x`.
 */

const ORIGIN = 'http://this.invalid'
const MAX_CHARS = 512

/** `raw` when it is a same-origin path starting with a single `/`; otherwise undefined. */
export function safeNextPath(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_CHARS) return undefined
  // Printable ASCII only (no space, tab, newline or control character; others come %-encoded).
  if (!/^\/[!-~]*$/.test(raw) || raw.startsWith('//') || raw.includes('\\')) return undefined
  // Belt and braces: the URL parser must agree that it stays on this origin.
  try {
    return new URL(raw, ORIGIN).origin === ORIGIN ? raw : undefined
  } catch {
    return undefined
  }
}
