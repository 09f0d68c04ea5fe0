/**
 * Pure helpers of the harness: medians and spreads, Redis `INFO commandstats` deltas, and the
 * machine's steal time from /proc/stat. Tested in test/bench/stats.test.ts.
 */

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The nearest-rank percentile `p` (0–100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: values.length === 0 ? NaN : Math.min(...values),
    max: values.length === 0 ? NaN : Math.max(...values),
  }
}

/**
 * Calls per command from the text of `INFO commandstats` (`cmdstat_hget:calls=3,usec=...`).
 * Subcommands keep their name (`client|setname`).
 */
export function parseCommandStats(info: string): Record<string, number> {
  const calls: Record<string, number> = {}
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match !== null) calls[match[1]!.toLowerCase()] = Number(match[2])
  }
  return calls
}

/** Commands the harness itself sends while measuring; never counted against a scenario. */
const HARNESS_COMMANDS = new Set(['info'])

/** Calls per command between two `parseCommandStats` results, without the harness's own. */
export function commandDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [name, calls] of Object.entries(after)) {
    if (HARNESS_COMMANDS.has(name)) continue
    const d = calls - (before[name] ?? 0)
    if (d > 0) delta[name] = d
  }
  return delta
}

export function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0)
}

/** One `cpu` line of /proc/stat, in jiffies: all time, steal, and busy (not idle or iowait). */
export interface CpuTimes {
  total: number
  steal: number
  busy: number
}

/**
 * Reads a `cpu` line of /proc/stat text (`line` = `cpu` for the sum of all CPUs, `cpu0` for one):
 * user nice system idle iowait irq softirq steal (guest and guest_nice are already inside user
 * and nice, so they are left out of the total).
 */
export function parseProcStat(text: string, line = 'cpu'): CpuTimes {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `))
  if (found === undefined) return { total: 0, steal: 0, busy: 0 }
  const f = found.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  return { total, steal: f[7] ?? 0, busy: total - (f[3] ?? 0) - (f[4] ?? 0) }
}

/** Steal as a percentage of all CPU time between two readings (0 when nothing elapsed). */
export function stealPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total
  return total <= 0 ? 0 : (100 * (after.steal - before.steal)) / total
}

/**
 * How much of one CPU something other than the server used over a window, in percent: that
 * CPU's busy time minus the server's own CPU time (`serverUs`), over the window's length.
 */
export function otherLoadPercent(
  before: CpuTimes,
  after: CpuTimes,
  serverUs: number,
  jiffyUs: number,
): number {
  const total = after.total - before.total
  if (total <= 0) return 0
  const busyUs = (after.busy - before.busy) * jiffyUs
  return Math.max(0, (100 * (busyUs - serverUs)) / (total * jiffyUs))
}
