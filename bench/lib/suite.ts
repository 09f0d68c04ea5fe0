/**
 * The load suite: scenarios interleaved over repetitions (rep 1: A B C ..., rep 2: A B C ...),
 * each scenario on a fresh server process per repetition, the private Redis emptied between
 * scenarios; then, when asked, the paired windows of pairs.ts. A scenario whose service is
 * missing, or whose server fails, is reported as skipped.
 */
import { startLoad, startServer } from './children.js'
import { openEnvironment } from './environment.js'
import { readCpuTimes } from './machine.js'
import { measureRoutes, type Sample, type Timing } from './measure.js'
import { runPairs, type PairRequest, type PairResult, type PairTiming } from './pairs.js'
import type { Route, Scenario } from './scenarios.js'
import { stealPercent } from './stats.js'

export interface CaseSamples {
  scenario: Scenario
  route: Route
  samples: Sample[]
}

export interface SuiteResult {
  cases: CaseSamples[]
  skipped: Array<{ scenario: string; reason: string }>
  pairs: PairResult[]
  pairsSkipped: Array<{ pair: string; reason: string }>
  stealPct: number
  seconds: number
}

export interface SuiteOptions extends Timing {
  reps: number
  databaseUrl: string
  log: (line: string) => void
  /** Pairs to measure in alternating windows after the repetitions (pairs.ts). */
  pairs?: { requests: readonly PairRequest[]; timing: PairTiming }
}

export async function runSuite(scenarios: Scenario[], options: SuiteOptions): Promise<SuiteResult> {
  const started = Date.now()
  const { log } = options
  const environment = await openEnvironment(scenarios, options.databaseUrl, log)
  const { env, redis, runnable, skipped } = environment
  const cases = new Map<string, CaseSamples>()
  const pairs: PairResult[] = []
  const pairsSkipped: SuiteResult['pairsSkipped'] = []
  const cpu0 = readCpuTimes()
  const load = await startLoad().catch(async (err: unknown) => {
    await environment.close()
    throw err
  })
  try {
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const scenario of runnable) {
        const tag = `rep ${rep}/${options.reps}`
        let server
        try {
          server = await startServer({ scenario: scenario.name, env })
        } catch (err) {
          skipped.push({ scenario: scenario.name, reason: `${tag}: ${String(err)}` })
          log(`${tag} ${scenario.name}: the server failed to start: ${String(err)}`)
          continue
        }
        try {
          const scenarioRedis = scenario.store === 'redis' ? redis : null
          const samples = await measureRoutes(scenario, server, load, scenarioRedis, options)
          for (const [route, sample] of samples) {
            const key = `${scenario.name}/${route}`
            const entry = cases.get(key) ?? { scenario, route, samples: [] }
            entry.samples.push(sample)
            cases.set(key, entry)
            log(
              `${tag} ${key.padEnd(36)} ${sample.rps.toFixed(0).padStart(6)} req/s ` +
                `${sample.cpuUsPerReq.toFixed(0).padStart(6)} µs CPU/req`,
            )
          }
        } catch (err) {
          skipped.push({ scenario: scenario.name, reason: `${tag}: ${String(err)}` })
          log(`${tag} ${scenario.name}: failed: ${String(err)}`)
        } finally {
          await server.stop()
          await redis?.flush()
        }
      }
    }
    if (options.pairs !== undefined && options.pairs.requests.length > 0) {
      const after = ((Date.now() - started) / 1000).toFixed(0)
      log(
        `paired windows: ${options.pairs.requests.length} pairs (after ${after} s of repetitions)`,
      )
      const measured = await runPairs(options.pairs.requests, {
        env,
        redis,
        load,
        runnable: new Set(runnable.map((s) => s.name)),
        timing: options.pairs.timing,
        log,
      })
      pairs.push(...measured.pairs)
      pairsSkipped.push(...measured.skipped)
    }
  } finally {
    await load.stop()
    await environment.close()
  }
  return {
    cases: [...cases.values()],
    skipped,
    pairs,
    pairsSkipped,
    stealPct: stealPercent(cpu0.all, readCpuTimes().all),
    seconds: (Date.now() - started) / 1000,
  }
}
