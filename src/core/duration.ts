import { invalidOption } from '../errors.js'

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * Reads a duration option: a positive number of milliseconds, or a string like "45s", "30m", "8h".
 * Converted once at startup; the request path only sees numbers.
 */
export function parseDuration(name: string, value: unknown, fallbackMs: number): number {
  if (value === undefined) return fallbackMs
  let ms: number | undefined
  if (typeof value === 'number') ms = value
  else if (typeof value === 'string') {
    const m = DURATION.exec(value.trim())
    if (m) ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
    else if (/^\d+$/.test(value.trim())) ms = Number(value)
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > 2 ** 40) {
    throw invalidOption(
      `"${name}" must be a positive number of ms or a string like "45s", "30m", "8h"; got ${JSON.stringify(value)}`,
      name,
    )
  }
  return Math.round(ms)
}
