/**
 * Words for people: how long ago, how long, and which device and browser a User-Agent names.
 * Approximate on purpose: a session list needs "Firefox on Windows", not a full UA parser.
 */

const UNITS: readonly [ms: number, singular: string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
]

/** "45 seconds", "30 minutes", "8 hours": the largest whole unit. */
export function formatDuration(ms: number): string {
  for (const [unitMs, unit] of UNITS) {
    if (ms >= unitMs) {
      const n = Math.floor(ms / unitMs)
      return `${n} ${unit}${n === 1 ? '' : 's'}`
    }
  }
  return `${Math.max(0, Math.round(ms))} ms`
}

/** A session class in words: "Administrator", "Standard", or the class's own name. */
export function classLabel(sessionClass: string): string {
  if (sessionClass === 'admin') return 'Administrator'
  return sessionClass === 'default' ? 'Standard' : sessionClass
}

/** "just now", "5 minutes ago". */
export function formatAgo(at: number, now: number): string {
  const ms = now - at
  return ms < 10_000 ? 'just now' : `${formatDuration(ms)} ago`
}

/** "2025-11-22 23:40 UTC": an unambiguous instant, independent of the server's time zone. */
export function formatInstant(at: number): string {
  return new Date(at).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

const BROWSERS: readonly [pattern: RegExp, name: string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bHeadlessChrome\//, 'Chrome (headless)'],
  [/\bChrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^node$|\bundici\b|^node-fetch/, 'Node.js'],
]

const DEVICES: readonly [pattern: RegExp, name: string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b.*\bMobile\b/, 'Android phone'],
  [/\bAndroid\b/, 'Android tablet'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'Mac'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
]

function firstMatch(table: readonly [RegExp, string][], ua: string): string | undefined {
  return table.find(([pattern]) => pattern.test(ua))?.[1]
}

/** The browser a User-Agent names, e.g. "Firefox", or "Unknown browser". */
export function browserOf(ua: string | null | undefined): string {
  return (ua && firstMatch(BROWSERS, ua)) || 'Unknown browser'
}

/** The device or operating system a User-Agent names, e.g. "Windows", or "Unknown device". */
export function deviceOf(ua: string | null | undefined): string {
  return (ua && firstMatch(DEVICES, ua)) || 'Unknown device'
}
