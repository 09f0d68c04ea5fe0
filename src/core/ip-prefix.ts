import { isIPv4, isIPv6 } from 'node:net'
import { unmapIPv4 } from './unmap-ipv4.js'

/**
 * The network an address belongs to: /24 for IPv4, /48 for IPv6. Recorded instead of the full
 * address, so the sessions page can say "192.0.2.x" without keeping personal data it does not need.
 */
export function ipPrefix(ip: string | undefined): string | undefined {
  if (ip === undefined) return undefined
  // Asked on every request of a bound session, for the few addresses a server sees most.
  const cached = recent.get(ip)
  if (cached !== undefined || recent.has(ip)) return cached
  const prefix = computePrefix(ip)
  if (recent.size >= RECENT_MAX) recent.clear()
  recent.set(ip, prefix)
  return prefix
}

/** Prefixes of recently seen addresses; cleared whole when full (bounded, no per-entry upkeep). */
const recent = new Map<string, string | undefined>()
const RECENT_MAX = 4096

function computePrefix(ip: string): string | undefined {
  const v4 = unmapIPv4(ip)
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).join('.') + '.0/24'
  if (!isIPv6(ip)) return undefined
  const groups = expandIPv6(ip).slice(0, 3)
  return groups.join(':') + '::/48'
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const fill = new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...fill, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
}
