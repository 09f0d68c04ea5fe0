/**
 * `npm run bench -- --check` (bench/lib/targets.ts, report.ts): verdicts computed from one run's
 * summaries. Synthetic summaries; no load runs here.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { peerScenario, summarize, type CaseSummary } from '../../bench/lib/report.js'
import { SCENARIOS } from '../../bench/lib/scenarios.js'
import { judge } from '../../bench/lib/targets.js'
import type { Sample } from '../../bench/lib/measure.js'

function sample(over: Partial<Sample>): Sample {
  return {
    rps: 1000,
    p50Ms: 1,
    p99Ms: 10,
    cpuUsPerReq: 100,
    redisCmdsPerReq: null,
    redisByCommand: null,
    redisRoundTripsPerReq: null,
    sqlPerReq: null,
    rssBytes: 100 * 2 ** 20,
    cookieBytes: 100,
    setCookieBytes: 0,
    loginSetCookieBytes: 120,
    statuses: { '200': 1000 },
    probeStatus: 200,
    errors: 0,
    stealPct: 0,
    otherLoadPct: 0,
    serverRequests: 1000,
    windowHrUs: [0, 1],
    ...over,
  }
}

function cases(list: Array<[string, 'me' | 'whoami', Partial<Sample>[]]>): CaseSummary[] {
  return summarize(
    list.map(([name, route, samples]) => ({
      scenario: SCENARIOS.find((s) => s.name === name)!,
      route,
      samples: samples.map(sample),
    })),
  )
}

function verdictOf(results: ReturnType<typeof judge>, id: string) {
  return results.find((r) => r.id === id)
}

describe('bench targets', () => {
  it('takes medians over repetitions and reads each case against its peer on the same route', () => {
    const s = cases([
      ['express-session-redis', 'me', [{ rps: 1000 }, { rps: 900 }, { rps: 1100 }]],
      ['tether-redis', 'me', [{ rps: 1300 }, { rps: 1200, cpuUsPerReq: 50 }, { rps: 5000 }]],
    ])
    const tether = s.find((c) => c.name === 'tether-redis/me')!
    assert.deepEqual(tether.rps, { median: 1300, min: 1200, max: 5000 })
    assert.equal(tether.peer, 'express-session-redis/me')
    assert.equal(tether.ratio, 1.3)
    // CPU µs per request: the peer's median (100) over this case's median (100 of 50, 100, 100).
    assert.equal(tether.cpuRatio, 1)
  })

  it('passes the Redis write target at 1.3× with 6 commands in 2 round trips, fails at 7', () => {
    const redis = { redisCmdsPerReq: 6, redisRoundTripsPerReq: 2 }
    const ok = judge(
      cases([
        ['express-session-redis', 'me', [{ rps: 1000, redisCmdsPerReq: 2 }]],
        ['tether-redis', 'me', [{ rps: 1300, ...redis }]],
      ]),
    )
    assert.equal(verdictOf(ok, 'redis-write')?.verdict, 'PASS')
    assert.equal(verdictOf(ok, 'redis-write')?.measured, '1.30× (CPU 1.00×)')
    assert.equal(verdictOf(ok, 'redis-write-commands')?.verdict, 'PASS')
    assert.equal(verdictOf(ok, 'redis-write-round-trips')?.verdict, 'PASS')
    const bad = judge(
      cases([
        ['express-session-redis', 'me', [{ rps: 1000 }]],
        ['tether-redis', 'me', [{ rps: 1100, redisCmdsPerReq: 7, redisRoundTripsPerReq: 3 }]],
      ]),
    )
    assert.equal(verdictOf(bad, 'redis-write')?.verdict, 'FAIL')
    assert.equal(verdictOf(bad, 'redis-write-commands')?.verdict, 'FAIL')
    assert.equal(verdictOf(bad, 'redis-write-round-trips')?.verdict, 'FAIL')
  })

  it('wants exactly one Redis command on a read', () => {
    const at = (n: number) =>
      verdictOf(
        judge(cases([['tether-redis', 'whoami', [{ redisCmdsPerReq: n }]]])),
        'redis-read-commands',
      )?.verdict
    assert.equal(at(1), 'PASS')
    assert.equal(at(2), 'FAIL')
    assert.equal(at(0), 'FAIL')
  })

  it('does not judge a target whose cases ran with 25 % steal or more', () => {
    const r = judge(
      cases([
        ['express-floor', 'whoami', [{ rps: 1000 }]],
        ['tether-nocookie', 'whoami', [{ rps: 500, stealPct: 30, redisCmdsPerReq: 0 }]],
      ]),
    )
    assert.equal(verdictOf(r, 'no-cookie')?.verdict, 'NOT JUDGED')
  })

  it('reports a target whose cases did not run as not measured, never as passed', () => {
    const r = judge(cases([['express-floor', 'whoami', [{}]]]))
    assert.equal(verdictOf(r, 'sealed')?.verdict, 'NOT MEASURED')
    assert.ok(r.every((t) => t.verdict !== 'PASS'))
  })

  it('gives an adapter with Redis the budget of its floor plus what a round trip costs on Express', () => {
    // Floor: 1000 µs per request; a Redis round trip adds 1000 µs (1000 → 500 req/s on Express).
    // A read may take one round trip: budget 2000 µs, so 500 req/s; 0.9× of that is 450.
    const at = (rps: number) =>
      verdictOf(
        judge(
          cases([
            ['express-floor', 'whoami', [{ rps: 1000 }]],
            ['express-redis-floor', 'whoami', [{ rps: 500 }]],
            ['hono-floor', 'whoami', [{ rps: 1000 }]],
            ['tether-hono-redis', 'whoami', [{ rps }]],
          ]),
        ),
        'adapter-hono-redis-whoami',
      )
    assert.equal(at(460)?.verdict, 'PASS')
    assert.equal(at(460)?.measured, '0.92×')
    assert.equal(at(440)?.verdict, 'FAIL')
  })

  it('names a peer for every Tether scenario and every incumbent', () => {
    for (const s of SCENARIOS) {
      if (s.name === 'express-floor') continue
      assert.ok(peerScenario(s.name), s.name)
    }
    assert.equal(peerScenario('tether-sealed'), 'iron-session')
    assert.equal(peerScenario('tether-fastify-memory'), 'fastify-session')
    assert.equal(peerScenario('tether-koa-redis'), 'koa-floor')
  })

  it('bench/README.md describes every scenario', () => {
    const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8')
    for (const { name } of SCENARIOS) {
      const adapter = /^tether-(fastify|hono|koa|node|fetch)-(memory|redis)$/.exec(name)
      const mention = adapter === null ? `\`${name}\`` : `\`tether-<adapter>-${adapter[2]}\``
      assert.ok(readme.includes(mention), `${name} is not in bench/README.md`)
    }
  })
})
