/**
 * Summaries per case (medians with min–max over the repetitions), the peer each case is read
 * against, the printed table and the JSON document.
 */
import type { Sample } from './measure.js'
import type { PairSummary } from './pairs.js'
import type { Route } from './scenarios.js'
import { spread, type Spread } from './stats.js'
import type { CaseSamples } from './suite.js'

export interface CaseSummary {
  name: string
  scenario: string
  route: Route
  about: string
  reps: number
  rps: Spread
  p50Ms: Spread
  p99Ms: Spread
  cpuUsPerReq: Spread
  redisCmdsPerReq: Spread | null
  redisRoundTripsPerReq: Spread | null
  /** Commands of the last repetition, per request, by name. */
  redisByCommand: Record<string, number> | null
  sqlPerReq: Spread | null
  rssMB: Spread
  cookieBytes: number
  setCookieBytes: number
  loginSetCookieBytes: number
  stealPct: Spread
  otherLoadPct: Spread
  statuses: Record<string, number>
  probeStatus: number
  errors: number
  peer: string | null
  /** Median req/s over the peer's median req/s. */
  ratio: number | null
  /**
   * The peer's median CPU µs per request over this case's: requests per CPU second against the
   * peer's. Steadier than `ratio` when other processes take CPU time from the server.
   */
  cpuRatio: number | null
}

const ADAPTERS = ['fastify', 'hono', 'koa', 'node', 'fetch']

/** The scenario a case is read against (the peer of its target, or its framework's floor). */
export function peerScenario(scenario: string): string | null {
  const fixed: Record<string, string> = {
    'express-floor': 'express-floor',
    'express-session-memory': 'express-floor',
    'express-session-redis': 'express-floor',
    'iron-session': 'express-floor',
    'fastify-session': 'fastify-floor',
    'fastify-secure-session': 'fastify-floor',
    'tether-memory': 'express-session-memory',
    'tether-sqlite': 'express-session-memory',
    'tether-redis': 'express-session-redis',
    'tether-postgres': 'express-session-redis',
    'tether-sealed': 'iron-session',
    'tether-bearer': 'tether-memory',
    'tether-nocookie': 'express-floor',
    'tether-forged': 'express-floor',
    'tether-forged-nothrottle': 'express-floor',
    'tether-expired': 'express-floor',
    'tether-fastify-memory': 'fastify-session',
    'tether-fastify-redis': 'fastify-session',
  }
  if (scenario in fixed) return fixed[scenario]!
  if (scenario.endsWith('-floor')) return 'express-floor'
  const adapter = ADAPTERS.find((a) => scenario.startsWith(`tether-${a}-`))
  return adapter === undefined ? null : `${adapter}-floor`
}

function nullableSpread(values: Array<number | null>): Spread | null {
  const present = values.filter((v): v is number => v !== null)
  return present.length === 0 ? null : spread(present)
}

function summarizeOne(c: CaseSamples): Omit<CaseSummary, 'peer' | 'ratio' | 'cpuRatio'> {
  const s = c.samples
  const last = s[s.length - 1]!
  const pick = (f: (x: Sample) => number) => spread(s.map(f))
  const statuses: Record<string, number> = {}
  for (const sample of s) {
    for (const [code, n] of Object.entries(sample.statuses))
      statuses[code] = (statuses[code] ?? 0) + n
  }
  const served = last.serverRequests
  return {
    name: `${c.scenario.name}/${c.route}`,
    scenario: c.scenario.name,
    route: c.route,
    about: c.scenario.about,
    reps: s.length,
    rps: pick((x) => x.rps),
    p50Ms: pick((x) => x.p50Ms),
    p99Ms: pick((x) => x.p99Ms),
    cpuUsPerReq: pick((x) => x.cpuUsPerReq),
    redisCmdsPerReq: nullableSpread(s.map((x) => x.redisCmdsPerReq)),
    redisRoundTripsPerReq: nullableSpread(s.map((x) => x.redisRoundTripsPerReq)),
    redisByCommand:
      last.redisByCommand === null
        ? null
        : Object.fromEntries(
            Object.entries(last.redisByCommand).map(([k, v]) => [
              k,
              Number((v / served).toFixed(3)),
            ]),
          ),
    sqlPerReq: nullableSpread(s.map((x) => x.sqlPerReq)),
    rssMB: pick((x) => x.rssBytes / 2 ** 20),
    cookieBytes: last.cookieBytes,
    setCookieBytes: last.setCookieBytes,
    loginSetCookieBytes: last.loginSetCookieBytes,
    stealPct: pick((x) => x.stealPct),
    otherLoadPct: pick((x) => x.otherLoadPct),
    statuses,
    probeStatus: last.probeStatus,
    errors: s.reduce((n, x) => n + x.errors, 0),
  }
}

/** Summaries of every case, each with its peer and its ratio to the peer (same route). */
export function summarize(cases: CaseSamples[]): CaseSummary[] {
  const partial = cases.map(summarizeOne)
  const byName = new Map(partial.map((c) => [c.name, c]))
  return partial.map((c) => {
    const peerName = peerScenario(c.scenario)
    // A floor is measured on /whoami alone and stands for every route.
    const peer =
      peerName === null
        ? undefined
        : (byName.get(`${peerName}/${c.route}`) ?? byName.get(`${peerName}/whoami`))
    return {
      ...c,
      peer: peer === undefined ? null : peer.name,
      ratio: peer === undefined ? null : c.rps.median / peer.rps.median,
      cpuRatio: peer === undefined ? null : peer.cpuUsPerReq.median / c.cpuUsPerReq.median,
    }
  })
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}

function range(s: Spread, digits = 0): string {
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`
}

/** The table printed at the end of a run. */
export function table(summaries: CaseSummary[]): string {
  const head = [
    'case',
    'req/s median (min–max)',
    'vs peer',
    'CPU vs peer',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'store cmds/req',
    'Cookie B',
    'Set-Cookie B',
    'RSS MB',
    'steal %',
    'other CPU0 %',
  ]
  const rows = summaries.map((c) => {
    const store =
      c.redisCmdsPerReq !== null
        ? `${fmt(c.redisCmdsPerReq.median, 2)} redis, ${fmt(c.redisRoundTripsPerReq?.median ?? NaN, 1)} rt`
        : c.sqlPerReq !== null
          ? `${fmt(c.sqlPerReq.median, 2)} sql`
          : ''
    const odd = c.errors > 0 || Object.keys(c.statuses).some((k) => !k.startsWith('2'))
    return [
      c.name + (odd ? ' !' : ''),
      range(c.rps),
      c.ratio === null ? '' : `${fmt(c.ratio, 2)}× ${c.peer?.split('/')[0] ?? ''}`,
      c.cpuRatio === null ? '' : `${fmt(c.cpuRatio, 2)}×`,
      fmt(c.p50Ms.median, 1),
      fmt(c.p99Ms.median, 1),
      range(c.cpuUsPerReq),
      store,
      String(c.cookieBytes),
      String(c.setCookieBytes),
      fmt(c.rssMB.median, 0),
      fmt(c.stealPct.median, 1),
      fmt(c.otherLoadPct.median, 0),
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  const notes = summaries
    .filter((c) => c.errors > 0 || Object.keys(c.statuses).some((k) => !k.startsWith('2')))
    .map((c) => `  ! ${c.name}: status codes ${JSON.stringify(c.statuses)}, errors ${c.errors}`)
  return [line(head), ...rows.map(line), ...notes].join('\n')
}

/** The paired windows of `--check`: per pair, the median ratio over its rounds and the spread. */
export function pairTable(pairs: readonly PairSummary[]): string {
  const head = [
    'paired (alternating windows)',
    'req/s ratio (min–max)',
    'CPU ratio',
    'p99 ms a / b',
  ]
  const rows = pairs.map((p) => [
    `${p.a} vs ${p.b}`,
    `${range(p.ratio, 2)}×`,
    `${fmt(p.cpuRatio.median, 2)}×`,
    `${fmt(p.p99MsA.median, 1)} / ${fmt(p.p99MsB.median, 1)}`,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  return [line(head), ...rows.map(line)].join('\n')
}
