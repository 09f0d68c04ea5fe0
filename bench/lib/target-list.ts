/**
 * The targets of issue 12 ("Targets") and issue 14 point 6, as checks over one run's case
 * summaries: which cases each needs, what it wants, and how it reads them. A check of two cases
 * against each other also reads them from paired windows (pairs.ts), which `--check` measures
 * and judges by when they ran. Judged in targets.ts.
 */
import type { PairRequest, PairSummary } from './pairs.js'
import type { CaseSummary } from './report.js'

export interface Check {
  id: string
  what: string
  cases: string[]
  wanted: string
  /** The measured value and whether it meets the target. */
  judge(c: CaseSummary[]): Reading
  /** The same, from paired windows of `cases[0]` against `cases[1]`. */
  judgePaired?(p: PairSummary): Reading
}

export interface Reading {
  value: number
  ok: boolean
  digits?: number
  suffix?: string
}

const rps = (c: CaseSummary) => c.rps.median

function ratioCheck(id: string, what: string, mine: string, peer: string, min: number): Check {
  return {
    id,
    what,
    cases: [mine, peer],
    wanted: `≥ ${min}×`,
    judge: ([a, b]) => {
      const value = rps(a!) / rps(b!)
      const cpu = b!.cpuUsPerReq.median / a!.cpuUsPerReq.median
      return { value, ok: value >= min, suffix: `× (CPU ${cpu.toFixed(2)}×)` }
    },
    judgePaired: (p) => {
      const { median: value, min: low, max: high } = p.ratio
      const range = `${low.toFixed(2)}–${high.toFixed(2)}`
      const cpu = `CPU ${p.cpuRatio.median.toFixed(2)}×`
      return { value, ok: value >= min, suffix: `× (${range}, ${cpu})` }
    },
  }
}

function p99Check(id: string, mine: string, peer: string): Check {
  return {
    id,
    what: `p99 of ${mine} no worse than ${peer}`,
    cases: [mine, peer],
    wanted: `≤ ${peer.split('/')[0]}'s p99`,
    judge: ([a, b]) => ({
      value: a!.p99Ms.median,
      ok: a!.p99Ms.median <= b!.p99Ms.median,
      digits: 1,
      suffix: ` ms vs ${b!.p99Ms.median.toFixed(1)} ms`,
    }),
    judgePaired: (p) => ({
      value: p.p99MsA.median,
      ok: p.p99MsA.median <= p.p99MsB.median,
      digits: 1,
      suffix: ` ms vs ${p.p99MsB.median.toFixed(1)} ms`,
    }),
  }
}

function redisCommands(id: string, what: string, name: string, max: number, exact = false): Check {
  return {
    id,
    what,
    cases: [name],
    wanted: exact ? `exactly ${max}` : `≤ ${max}`,
    judge: ([a]) => {
      const value = a!.redisCmdsPerReq?.median ?? NaN
      // Medians of per-request averages: allow rounding of the counts at the edges of a window.
      const ok = exact ? Math.abs(value - max) < 0.05 : value <= max + 0.05
      return { value, ok, digits: 2 }
    },
  }
}

function roundTrips(id: string, name: string, max: number): Check {
  return {
    id,
    what: `${name}: Redis round trips per request (one at a time)`,
    cases: [name],
    wanted: `≤ ${max}`,
    judge: ([a]) => {
      const value = a!.redisRoundTripsPerReq?.median ?? NaN
      return { value, ok: value <= max + 0.05, digits: 2 }
    },
  }
}

/**
 * An adapter within 10 % of its framework's floor plus the store's round trips: the time per
 * request allowed is the floor's plus `trips` times what one Redis round trip adds on Express
 * (express-redis-floor against express-floor), and the adapter needs ≥ 0.9× that rate.
 */
function adapterCheck(adapter: string, store: 'memory' | 'redis', route: 'me' | 'whoami'): Check {
  const mine = `tether-${adapter}-${store}/${route}`
  const floor = `${adapter}-floor/whoami`
  const trips = store === 'memory' ? 0 : route === 'me' ? 2 : 1
  const cases =
    trips === 0
      ? [mine, floor]
      : [mine, floor, 'express-redis-floor/whoami', 'express-floor/whoami']
  return {
    id: `adapter-${adapter}-${store}-${route}`,
    what:
      `${mine} within 10 % of ${adapter}-floor` +
      (trips === 0 ? '' : ` + ${trips} Redis round trip(s)`),
    cases,
    wanted: '≥ 0.9× budget',
    judge: ([a, f, rf, ef]) => {
      const tripS = trips === 0 ? 0 : Math.max(0, 1 / rps(rf!) - 1 / rps(ef!))
      const budgetRps = 1 / (1 / rps(f!) + trips * tripS)
      const value = rps(a!) / budgetRps
      return { value, ok: value >= 0.9, suffix: '×' }
    },
  }
}

function zeroStore(id: string, name: string): Check {
  return redisCommands(id, `${name}: no store command`, name, 0, true)
}

/** Every judged target, in the order of the issues. */
export function checks(): Check[] {
  const list: Check[] = [
    ratioCheck(
      'redis-write',
      'Tether + Redis, write every request, vs express-session + connect-redis',
      'tether-redis/me',
      'express-session-redis/me',
      1.2,
    ),
    roundTrips('redis-write-round-trips', 'tether-redis/me', 2),
    redisCommands(
      'redis-write-commands',
      'tether-redis/me: Redis commands per write request',
      'tether-redis/me',
      6,
    ),
    ratioCheck(
      'redis-read',
      'Tether + Redis, read-only, vs express-session + connect-redis',
      'tether-redis/whoami',
      'express-session-redis/whoami',
      1.5,
    ),
    redisCommands(
      'redis-read-commands',
      'tether-redis/whoami: Redis commands per read request',
      'tether-redis/whoami',
      1,
      true,
    ),
  ]
  const memoryPeers = [
    ['memory', 'Memory', 1.3],
    ['sqlite', 'SQLite', 1.0],
  ] as const
  for (const [store, label, min] of memoryPeers) {
    for (const route of ['me', 'whoami'] as const) {
      list.push(
        ratioCheck(
          `${store}-${route}`,
          `Tether + ${label} vs express-session MemoryStore (/${route})`,
          `tether-${store}/${route}`,
          `express-session-memory/${route}`,
          min,
        ),
      )
    }
  }
  list.push(
    ratioCheck(
      'no-cookie',
      'Requests without a cookie vs the Express floor',
      'tether-nocookie/whoami',
      'express-floor/whoami',
      0.97,
    ),
  )
  list.push(zeroStore('no-cookie-store', 'tether-nocookie/whoami'))
  for (const name of ['tether-forged', 'tether-forged-nothrottle', 'tether-expired']) {
    list.push(
      ratioCheck(
        `${name.slice(7)}`,
        `${name} vs the Express floor`,
        `${name}/whoami`,
        'express-floor/whoami',
        0.95,
      ),
    )
    list.push(zeroStore(`${name.slice(7)}-store`, `${name}/whoami`))
  }
  for (const route of ['me', 'whoami'] as const) {
    list.push(
      ratioCheck(
        `fastify-${route}`,
        `Tether on Fastify vs @fastify/session (/${route})`,
        `tether-fastify-memory/${route}`,
        `fastify-session/${route}`,
        2.5,
      ),
    )
  }
  for (const adapter of ['hono', 'koa', 'node', 'fetch']) {
    for (const store of ['memory', 'redis'] as const) {
      for (const route of ['me', 'whoami'] as const) list.push(adapterCheck(adapter, store, route))
    }
  }
  const pairs: Array<[string, string]> = [
    ['tether-redis/me', 'express-session-redis/me'],
    ['tether-redis/whoami', 'express-session-redis/whoami'],
    ['tether-memory/me', 'express-session-memory/me'],
    ['tether-memory/whoami', 'express-session-memory/whoami'],
    ['tether-sqlite/me', 'express-session-memory/me'],
    ['tether-fastify-memory/me', 'fastify-session/me'],
    ['tether-sealed/me', 'iron-session/me'],
  ]
  for (const [mine, peer] of pairs) list.push(p99Check(`p99-${mine.replace('/', '-')}`, mine, peer))
  list.push(
    ratioCheck(
      'sealed',
      "Tether sealed (store: 'sealed') vs iron-session, write every request (issue 14)",
      'tether-sealed/me',
      'iron-session/me',
      4,
    ),
  )
  return list
}

/** The pairs the checks can read from paired windows, each once. */
export function pairRequests(list: readonly Check[] = checks()): PairRequest[] {
  const seen = new Map<string, PairRequest>()
  for (const check of list) {
    if (check.judgePaired === undefined) continue
    const [a, b] = check.cases as [string, string]
    seen.set(`${a} ${b}`, { a, b })
  }
  return [...seen.values()]
}
