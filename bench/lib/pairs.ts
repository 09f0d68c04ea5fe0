/**
 * Paired windows, for the targets that compare two cases. Each round starts a fresh server for
 * each side, both up at once (both on CPU 0, idle but for the one under load), and puts the load
 * on one, then the other, in adjacent windows, the order alternating by round (a b, b a, ...);
 * its ratio is read from those two windows. The machine's speed drifts over minutes (a case
 * measured 1.8× slower in one repetition than in the next); the suite's cases of one pair run
 * minutes apart, a round's two windows seconds apart, so a paired ratio keeps far less of that
 * drift, and fresh processes per round sample what differs from one process to the next.
 */
import { credential, loadWindow, prepareRoute, type PreparedRoute } from './measure.js'
import { readCpuTimes } from './machine.js'
import { startServer, type LoadGenerator, type ScenarioServer } from './children.js'
import type { BenchRedis } from './redis.js'
import { scenarioByName, type Route, type Scenario } from './scenarios.js'
import { median, spread, stealPercent, type Spread } from './stats.js'

/** Two cases (`scenario/route`) to measure side by side: `a` is read against `b`. */
export interface PairRequest {
  a: string
  b: string
}

/** One window of one side of a round. */
export interface PairWindow {
  rps: number
  cpuUsPerReq: number
  p99Ms: number
  stealPct: number
}

export interface PairRound {
  a: PairWindow
  b: PairWindow
}

export interface PairResult extends PairRequest {
  rounds: PairRound[]
}

/** What the targets read of a pair: medians over its rounds. */
export interface PairSummary extends PairRequest {
  rounds: number
  /** a's req/s over b's, per round. */
  ratio: Spread
  /** b's CPU µs per request over a's, per round. */
  cpuRatio: Spread
  p99MsA: Spread
  p99MsB: Spread
  /** The median steal of its windows, in percent. */
  stealPct: number
}

export interface PairTiming {
  rounds: number
  windowS: number
  warmupS: number
  connections: number
}

/** Which side goes first in round `round` (0-based): a b, then b a, and so on. */
export function roundOrder(round: number): ['a', 'b'] | ['b', 'a'] {
  return round % 2 === 0 ? ['a', 'b'] : ['b', 'a']
}

export function summarizePair(pair: PairResult): PairSummary {
  const { rounds } = pair
  const windows = rounds.flatMap((r) => [r.a, r.b])
  return {
    a: pair.a,
    b: pair.b,
    rounds: rounds.length,
    ratio: spread(rounds.map((r) => r.a.rps / r.b.rps)),
    cpuRatio: spread(rounds.map((r) => r.b.cpuUsPerReq / r.a.cpuUsPerReq)),
    p99MsA: spread(rounds.map((r) => r.a.p99Ms)),
    p99MsB: spread(rounds.map((r) => r.b.p99Ms)),
    stealPct: windows.length === 0 ? 0 : median(windows.map((w) => w.stealPct)),
  }
}

/** The requests grouped by their two scenarios, so one pair of servers serves every route. */
export function groupPairs(
  requests: readonly PairRequest[],
): Array<{ a: string; b: string; routes: Array<[Route, Route]> }> {
  const groups = new Map<string, { a: string; b: string; routes: Array<[Route, Route]> }>()
  for (const { a, b } of requests) {
    const [sa, ra] = a.split('/') as [string, Route]
    const [sb, rb] = b.split('/') as [string, Route]
    const key = `${sa} ${sb}`
    const group = groups.get(key) ?? { a: sa, b: sb, routes: [] }
    group.routes.push([ra, rb])
    groups.set(key, group)
  }
  return [...groups.values()]
}

export interface PairContext {
  env: Record<string, string>
  redis: BenchRedis | null
  load: LoadGenerator
  runnable: ReadonlySet<string>
  timing: PairTiming
  log: (line: string) => void
}

async function sideWindow(
  server: ScenarioServer,
  load: LoadGenerator,
  prepared: PreparedRoute,
  seconds: number,
): Promise<PairWindow> {
  const cpu0 = readCpuTimes()
  const window = await loadWindow(server, load, { ...prepared.job, seconds })
  return {
    rps: window.rps,
    cpuUsPerReq: window.cpuUsPerReq,
    p99Ms: window.result.latencyP99Ms,
    stealPct: stealPercent(cpu0.all, readCpuTimes().all),
  }
}

async function measureRound(
  scenarios: { a: Scenario; b: Scenario },
  routes: Array<[Route, Route]>,
  round: number,
  ctx: PairContext,
): Promise<PairRound[]> {
  const { load, timing } = ctx
  const servers: Partial<Record<'a' | 'b', ScenarioServer>> = {}
  try {
    servers.a = await startServer({ scenario: scenarios.a.name, env: ctx.env })
    servers.b = await startServer({ scenario: scenarios.b.name, env: ctx.env })
    const creds = {
      a: await credential(scenarios.a, servers.a.port),
      b: await credential(scenarios.b, servers.b.port),
    }
    const out: PairRound[] = []
    for (const [ra, rb] of routes) {
      const prepared: Record<'a' | 'b', PreparedRoute> = {
        a: await prepareRoute(scenarios.a, ra, servers.a.port, creds.a, timing.connections),
        b: await prepareRoute(scenarios.b, rb, servers.b.port, creds.b, timing.connections),
      }
      for (const side of ['a', 'b'] as const) {
        await load.run({ ...prepared[side].job, seconds: timing.warmupS })
      }
      const pair: Partial<PairRound> = {}
      for (const side of roundOrder(round)) {
        pair[side] = await sideWindow(servers[side]!, load, prepared[side], timing.windowS)
      }
      out.push(pair as PairRound)
    }
    return out
  } finally {
    await servers.a?.stop()
    await servers.b?.stop()
    await ctx.redis?.flush()
  }
}

/**
 * Every round of a group, each on fresh server processes: a server process is a sample too (two
 * processes of one scenario differ by up to a quarter in speed, from what V8 compiled and where
 * their memory lies), so one process per side for all rounds would judge by that one sample.
 */
async function measureGroup(
  scenarios: { a: Scenario; b: Scenario },
  routes: Array<[Route, Route]>,
  ctx: PairContext,
): Promise<PairResult[]> {
  const rounds: PairRound[][] = routes.map(() => [])
  for (let r = 0; r < ctx.timing.rounds; r++) {
    const measured = await measureRound(scenarios, routes, r, ctx)
    measured.forEach((round, i) => rounds[i]!.push(round))
  }
  return routes.map(([ra, rb], i) => {
    const a = `${scenarios.a.name}/${ra}`
    const b = `${scenarios.b.name}/${rb}`
    const ratio = summarizePair({ a, b, rounds: rounds[i]! }).ratio
    ctx.log(
      `paired ${a} vs ${b}: ${ratio.median.toFixed(2)}× ` +
        `(${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}, ${rounds[i]!.length} rounds)`,
    )
    return { a, b, rounds: rounds[i]! }
  })
}

/**
 * Measures every requested pair; a pair whose scenario is not runnable here (a missing
 * service), or whose servers fail, comes back in `skipped` with the reason.
 */
export async function runPairs(
  requests: readonly PairRequest[],
  ctx: PairContext,
): Promise<{ pairs: PairResult[]; skipped: Array<{ pair: string; reason: string }> }> {
  const pairs: PairResult[] = []
  const skipped: Array<{ pair: string; reason: string }> = []
  for (const group of groupPairs(requests)) {
    const label = `${group.a} vs ${group.b}`
    const a = scenarioByName(group.a)
    const b = scenarioByName(group.b)
    if (a === undefined || b === undefined) throw new Error(`unknown scenario in ${label}`)
    const missing = [a, b].filter((s) => !ctx.runnable.has(s.name)).map((s) => s.name)
    if (missing.length > 0) {
      skipped.push({ pair: label, reason: `not runnable here: ${missing.join(', ')}` })
      continue
    }
    try {
      pairs.push(...(await measureGroup({ a, b }, group.routes, ctx)))
    } catch (err) {
      skipped.push({ pair: label, reason: String(err) })
      ctx.log(`paired ${label}: failed: ${String(err)}`)
    }
  }
  return { pairs, skipped }
}
