/**
 * The harness's pure parts (bench/lib/stats.ts, forge.ts, profile.ts): what the figures of
 * `npm run bench` are computed from. No load runs here.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { forgeToken } from '../../bench/lib/forge.js'
import { summarizeProfile, type CpuProfile } from '../../bench/lib/profile.js'
import {
  commandDelta,
  median,
  otherLoadPercent,
  parseCommandStats,
  parseProcStat,
  percentile,
  spread,
  stealPercent,
  sum,
} from '../../bench/lib/stats.js'

// A real `INFO commandstats` answer (redis 7), CRLF line ends as the server sends them.
const INFO = [
  '# Commandstats',
  'cmdstat_hset:calls=54933,usec=47632,usec_per_call=0.87,rejected_calls=0,failed_calls=0',
  'cmdstat_evalsha:calls=12,usec=600,usec_per_call=50.00,rejected_calls=0,failed_calls=0',
  'cmdstat_script|flush:calls=4,usec=638,usec_per_call=159.50,rejected_calls=0,failed_calls=0',
  'cmdstat_info:calls=7,usec=300,usec_per_call=42.86,rejected_calls=0,failed_calls=0',
  '',
].join('\r\n')

describe('bench stats', () => {
  it('takes the median of odd and even counts, and NaN of nothing', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.ok(Number.isNaN(median([])))
    assert.deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5 })
  })

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1, unsorted
    assert.equal(percentile(values, 50), 50)
    assert.equal(percentile(values, 99), 99)
    assert.equal(percentile([7], 99), 7)
    assert.ok(Number.isNaN(percentile([], 50)))
  })

  it('parses INFO commandstats, subcommands included', () => {
    assert.deepEqual(parseCommandStats(INFO), {
      hset: 54933,
      evalsha: 12,
      'script|flush': 4,
      info: 7,
    })
  })

  it('subtracts two readings, leaving out unchanged commands and the harness INFO calls', () => {
    const before = parseCommandStats(INFO)
    const after = { ...before, hset: 54943, evalsha: 13, info: 9, hgetall: 5 }
    const delta = commandDelta(before, after)
    assert.deepEqual(delta, { hset: 10, evalsha: 1, hgetall: 5 })
    assert.equal(sum(delta), 16)
  })

  it('reads steal and busy time from /proc/stat, for all CPUs and for one', () => {
    const text = [
      'cpu  100 0 50 800 10 0 5 35 7 0',
      'cpu0 60 0 30 400 5 0 3 2 0 0',
      'cpu1 40 0 20 400 5 0 2 33 7 0',
      'intr 1 2 3',
    ].join('\n')
    assert.deepEqual(parseProcStat(text), { total: 1000, steal: 35, busy: 190 })
    assert.deepEqual(parseProcStat(text, 'cpu0'), { total: 500, steal: 2, busy: 95 })
    assert.deepEqual(parseProcStat('intr 1'), { total: 0, steal: 0, busy: 0 })
  })

  it('gives steal as a share of the elapsed CPU time', () => {
    const before = { total: 1000, steal: 10, busy: 0 }
    assert.equal(stealPercent(before, { total: 2000, steal: 260, busy: 0 }), 25)
    assert.equal(stealPercent(before, before), 0)
  })

  it("gives the load others put on the server's CPU, without the server's own time", () => {
    // 100 jiffies of 10 ms elapsed on CPU 0 (1 s), 80 of them busy; the server used 500 ms.
    const before = { total: 0, steal: 0, busy: 0 }
    const after = { total: 100, steal: 0, busy: 80 }
    assert.equal(otherLoadPercent(before, after, 500_000, 10_000), 30)
    assert.equal(otherLoadPercent(before, after, 900_000, 10_000), 0)
  })
})

describe('bench forgeToken', () => {
  it('keeps the version, key id and creation time, and replaces the id and the MAC', () => {
    const template = `t1.kid01.${Date.now().toString(36)}.${'a'.repeat(43)}.${'b'.repeat(43)}`
    const forged = forgeToken(template, randomBytes)
    const [v, kid, created, id, mac] = forged.split('.')
    const parts = template.split('.')
    assert.deepEqual([v, kid, created], parts.slice(0, 3))
    assert.match(id!, /^[A-Za-z0-9_-]{43}$/)
    assert.match(mac!, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(id, parts[3])
    assert.notEqual(forgeToken(template, randomBytes), forged)
  })

  it('refuses a template that is not a t1 token', () => {
    assert.throws(() => forgeToken('s1.kid.sealed', randomBytes), /not a t1 session token/)
  })
})

describe('bench summarizeProfile', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
    columnNumber: 0,
  })
  // Samples every 100 µs from t = 1000: ids 2 2 3 1 2 at 1100, 1200, 1300, 1400, 1500.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('verifyToken', 'file:///repo/dist/codec/token.js', 66) },
      { id: 3, callFrame: frame('', 'file:///repo/dist/x.js', 9) },
    ],
    startTime: 1000,
    endTime: 1600,
    samples: [2, 2, 3, 1, 2],
    timeDeltas: [100, 100, 100, 100, 100],
  }

  it('sums self time per function in the window, per request, idle apart', () => {
    const s = summarizeProfile(profile, [1100, 1400], 2, '/repo')
    assert.equal(s.windowed, true)
    // In the window: 2 (100), 2 (100), 3 (100), idle (100).
    assert.equal(s.totalUsPerRequest, 150)
    assert.equal(s.idleUsPerRequest, 50)
    assert.deepEqual(
      s.top.map((f) => [f.name, f.location, f.usPerRequest]),
      [
        ['verifyToken', 'dist/codec/token.js:67', 100],
        ['(anonymous)', 'dist/x.js:10', 50],
      ],
    )
  })

  it('falls back to the whole profile when no sample is in the window', () => {
    const s = summarizeProfile(profile, [5000, 6000], 1, '/repo')
    assert.equal(s.windowed, false)
    // The last sample has no successor, so it stands for no time.
    assert.equal(s.totalUsPerRequest, 300)
  })
})
