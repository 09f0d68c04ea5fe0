/**
 * JSON text that PostgreSQL's `jsonb` and `text` accept for any JavaScript string. `jsonb` refuses
 * `\u0000` and lone surrogates ("unsupported Unicode escape sequence"), which JSON.stringify
 * writes for NUL and for unpaired halves of a surrogate pair, so those escapes are stored as U+E000
 * (a private-use character) followed by `u` and the four hex digits, and U+E000 as U+E000 `e`.
 * The mapping works on keys and values alike, so `data - keys` and `data || patch` in SQL still
 * compare the same encoded keys.
 */

const MARK = '\uE000'
// Left to right, `\\` is consumed as a pair, so `\u…` only matches where the backslash starts an
// escape. JSON.stringify escapes a surrogate only when it is lone (ES2019 well-formed stringify).
const STORED_BADLY = /\\(\\|u0000|ud[89a-f][0-9a-f]{2})/g
const ENCODED = /\uE000(e|u[0-9a-f]{4})/g

/** `JSON.stringify(value)`, made acceptable to `jsonb`. */
export function encodeJson(value: unknown): string {
  const json = JSON.stringify(value)
  if (!json.includes('\\u') && !json.includes(MARK)) return json
  return json.replaceAll(MARK, `${MARK}e`).replace(STORED_BADLY, function encodeEscape(all, tail) {
    return tail === '\\' ? all : MARK + (tail as string)
  })
}

/** Parses JSON text read back from a `jsonb` column written by {@link encodeJson}. */
export function decodeJson<T>(text: string): T {
  const json = text.includes(MARK)
    ? text.replace(ENCODED, function decodeEscape(_all, tail: string) {
        return tail === 'e' ? MARK : `\\${tail}`
      })
    : text
  // JSON.parse defines `__proto__` as an own property, never as the prototype.
  return JSON.parse(json) as T
}

/** A string as it appears inside {@link encodeJson}'s output: for `text` columns and key lists. */
export function encodeText(value: string): string {
  return JSON.parse(encodeJson(value)) as string
}
