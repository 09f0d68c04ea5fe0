/**
 * Paired windows (bench/lib/pairs.ts) and how `--check` judges by them (targets.ts): the
 * alternating order, per-round ratios, grouping by scenario pair, and the verdicts. Synthetic
 * rounds; no load runs here.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  groupPairs,
  roundOrder,
  summarizePair,
  type PairRound,
  type PairWindow,
} from '../../bench/lib/pairs.js'
import { summarize } from '../../bench/lib/report.js'
import { SCENARIOS } from '../../bench/lib/scenarios.js'
import { checks, pairRequests } from '../../bench/lib/target-list.js'
import { judge } from '../../bench/lib/targets.js'

function win(rps: number, over: Partial<PairWindow> = {}): PairWindow {
  return { rps, cpuUsPerReq: 1e6 / rps, p99Ms: 5, stealPct: 0, ...over }
}

function round(a: number, b: number, over: Partial<PairWindow> = {}): PairRound {
  return { a: win(a, over), b: win(b, over) }
}

describe('bench paired windows', () => {
  it('alternates which side goes first, round after round', () => {
    assert.deepEqual([0, 1, 2, 3].map(roundOrder), [
      ['a', 'b'],
      ['b', 'a'],
      ['a', 'b'],
      ['b', 'a'],
    ])
  })

  it('reads a ratio per round, so a slow stretch that hits both sides of a round cancels', () => {
    // Rounds 2 and 3 ran on a machine half as fast: both sides halved, the ratio unchanged.
    const s = summarizePair({
      a: 'tether-sealed/me',
      b: 'iron-session/me',
      rounds: [round(4000, 1000), round(2000, 500), round(2100, 500), round(4400, 1000)],
    })
    assert.deepEqual(s.ratio, { median: 4.1, min: 4, max: 4.4 })
    assert.equal(s.rounds, 4)
    // The ratio of medians over the same windows would be 3000 / 750 = 4.0; of mins 2000/500 = 4.
    assert.ok(Math.abs(s.cpuRatio.median - 4.1) < 1e-9)
  })

  it('keeps the median steal of the windows', () => {
    const s = summarizePair({
      a: 'x/me',
      b: 'y/me',
      rounds: [round(1, 1, { stealPct: 0 }), round(1, 1, { stealPct: 40 }), round(1, 1)],
    })
    assert.equal(s.stealPct, 0)
  })

  it('groups routes by their two scenarios, so one pair of servers serves both routes', () => {
    const groups = groupPairs([
      { a: 'tether-memory/me', b: 'express-session-memory/me' },
      { a: 'tether-nocookie/whoami', b: 'express-floor/whoami' },
      { a: 'tether-memory/whoami', b: 'express-session-memory/whoami' },
    ])
    assert.deepEqual(groups, [
      {
        a: 'tether-memory',
        b: 'express-session-memory',
        routes: [
          ['me', 'me'],
          ['whoami', 'whoami'],
        ],
      },
      { a: 'tether-nocookie', b: 'express-floor', routes: [['whoami', 'whoami']] },
    ])
  })

  it('pairs every two-case target once, and no target of more or fewer cases', () => {
    const requests = pairRequests()
    const keys = requests.map((p) => `${p.a} ${p.b}`)
    assert.equal(new Set(keys).size, keys.length)
    assert.ok(keys.includes('tether-sealed/me iron-session/me'))
    assert.ok(keys.includes('tether-forged/whoami express-floor/whoami'))
    const names = new Set(SCENARIOS.flatMap((s) => s.routes.map((r) => `${s.name}/${r}`)))
    for (const p of requests) assert.ok(names.has(p.a) && names.has(p.b), `${p.a} ${p.b}`)
    for (const c of checks()) {
      if (c.judgePaired !== undefined) assert.equal(c.cases.length, 2, c.id)
    }
  })
})

describe('bench targets judged from paired windows', () => {
  const sealedPair = (rounds: PairRound[]) =>
    summarizePair({ a: 'tether-sealed/me', b: 'iron-session/me', rounds })

  it('judges a ratio target by the paired median and keeps the suite ratio in the note', () => {
    const suite = summarize(
      [
        ['tether-sealed', 1000],
        ['iron-session', 400],
      ].map(([name, rps]) => ({
        scenario: SCENARIOS.find((s) => s.name === name)!,
        route: 'me' as const,
        samples: [{ ...win(rps as number), ...suiteFields }],
      })),
    )
    const pass = judge(suite, [
      sealedPair([round(4200, 1000), round(4000, 1000), round(3900, 1000)]),
    ])
    const sealed = pass.find((t) => t.id === 'sealed')!
    assert.equal(sealed.verdict, 'PASS')
    assert.match(sealed.measured, /^4\.00× \(3\.90–4\.20, CPU 4\.00×\)$/)
    assert.match(sealed.note!, /^paired, 3 rounds; suite: 2\.50×/)
    const fail = judge(suite, [
      sealedPair([round(3900, 1000), round(3950, 1000), round(5000, 1000)]),
    ])
    assert.equal(fail.find((t) => t.id === 'sealed')!.verdict, 'FAIL')
  })

  it('judges p99 from the same windows', () => {
    const pair = sealedPair([
      { a: win(4000, { p99Ms: 9 }), b: win(1000, { p99Ms: 8 }) },
      { a: win(4000, { p99Ms: 9 }), b: win(1000, { p99Ms: 8 }) },
    ])
    const p99 = judge([], [pair]).find((t) => t.id === 'p99-tether-sealed-me')!
    assert.equal(p99.verdict, 'FAIL')
    assert.equal(p99.measured, '9.0 ms vs 8.0 ms')
  })

  it('does not judge a pair measured with 25 % steal or more', () => {
    const pair = sealedPair([
      round(4000, 1000, { stealPct: 30 }),
      round(4000, 1000, { stealPct: 30 }),
    ])
    assert.equal(judge([], [pair]).find((t) => t.id === 'sealed')!.verdict, 'NOT JUDGED')
  })

  it('falls back to the suite medians for a pair that was not measured', () => {
    const results = judge([], [])
    assert.equal(results.find((t) => t.id === 'sealed')!.verdict, 'NOT MEASURED')
  })
})

const suiteFields = {
  p50Ms: 1,
  redisCmdsPerReq: null,
  redisByCommand: null,
  redisRoundTripsPerReq: null,
  sqlPerReq: null,
  rssBytes: 2 ** 20,
  cookieBytes: 100,
  setCookieBytes: 0,
  loginSetCookieBytes: 0,
  statuses: { '200': 1 },
  probeStatus: 200,
  errors: 0,
  otherLoadPct: 0,
  serverRequests: 1,
  windowHrUs: [0, 1] as [number, number],
}
