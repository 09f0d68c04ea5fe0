import { isIPv4, isIPv6 } from 'node:net'

/** An IPv4-mapped address (RFC 4291 §2.5.5.2) as the URL parser writes it: `::ffff:` + 32 bits in hex. */
const MAPPED = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/

/**
 * The IPv4 address an IPv4-mapped IPv6 address stands for (`::ffff:192.0.2.1` → `192.0.2.1`, in any
 * spelling); any other value unchanged. A server listening on `::` (what `app.listen(port)` does)
 * sees every IPv4 client as such an address: unmapped, it is counted, bound and shown as IPv4.
 */
export function unmapIPv4(ip: string): string
export function unmapIPv4(ip: string | undefined): string | undefined
export function unmapIPv4(ip: string | undefined): string | undefined {
  if (ip === undefined || !isIPv6(ip)) return ip
  // The form Node reports, without a URL parse.
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7)
  let host: string
  try {
    // The WHATWG URL parser canonicalises IPv6: lower case, zeros compressed, a dotted tail in hex.
    host = new URL(`http://[${ip}]`).hostname
  } catch {
    return ip // a zone id (fe80::1%eth0): not a mapped address
  }
  const m = MAPPED.exec(host)
  if (m === null) return ip
  const hi = parseInt(m[1]!, 16)
  const lo = parseInt(m[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}
