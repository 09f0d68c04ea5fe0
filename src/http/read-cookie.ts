/** Marker for a cookie name sent more than once with different values. */
export const DUPLICATE = Symbol('duplicate cookie')

/**
 * Finds one cookie in a Cookie header without parsing the rest. A name sent twice with different
 * values (cookie tossing from a sibling subdomain) is reported, not resolved by picking one.
 */
export function readCookie(
  header: string | undefined,
  name: string,
): string | typeof DUPLICATE | undefined {
  if (header === undefined || header.length === 0) return undefined
  let found: string | undefined
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim()
      if (
        value.length > 1 &&
        value.charCodeAt(0) === 34 &&
        value.charCodeAt(value.length - 1) === 34
      ) {
        value = value.slice(1, -1)
      }
      if (found !== undefined && found !== value) return DUPLICATE
      found = value
    }
    start = end + 1
  }
  return found
}
