/**
 * `npm run bench -- [flags]`: Tether beside the incumbents, under load from a second process.
 * Servers run pinned to CPU 0, the load generator (autocannon) to CPU 1; scenarios interleave
 * over repetitions; the harness starts its own redis-server and stops it by pid at the end. What
 * it lets pass: other processes on the machine (their effect shows as steal and spread), and
 * PostgreSQL's own CPU, which is shared and not pinned. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseBenchArgs, USAGE, type BenchArgs } from './lib/args.js'
import { pinningAvailable, stopAll, stopChildrenOnExit } from './lib/children.js'
import { ensureBuild } from './lib/machine.js'
import { runProfile } from './lib/run-profile.js'
import { pairTable, summarize, table } from './lib/report.js'
import { summarizePair } from './lib/pairs.js'
import { QUICK, SCENARIOS, scenarioByName, type Route, type Scenario } from './lib/scenarios.js'
import { runSuite } from './lib/suite.js'
import { pairRequests } from './lib/target-list.js'
import { judge, targetTable, type TargetResult } from './lib/targets.js'
import { judgeMemory, measureMemory, memoryReport, type MemoryVerdicts } from './memory/run.js'
import { runMicro } from './micro/run.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const RESULTS = join(ROOT, 'bench', 'results')
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The scenarios `--only` names (a `scenario/route` keeps that route alone). */
export function selectScenarios(args: BenchArgs): Scenario[] {
  const names = args.only ?? (args.quick ? QUICK : SCENARIOS.map((s) => s.name))
  const routes = new Map<string, Set<Route>>()
  for (const entry of names) {
    const [name, route] = entry.split('/') as [string, Route | undefined]
    const scenario = scenarioByName(name)
    if (scenario === undefined) {
      const known = SCENARIOS.map((s) => s.name).join(', ')
      throw new Error(`unknown scenario ${JSON.stringify(name)}; one of: ${known}`)
    }
    if (route !== undefined && !scenario.routes.includes(route)) {
      throw new Error(
        `${name} has no route ${JSON.stringify(route)} (${scenario.routes.join(', ')})`,
      )
    }
    const set = routes.get(name) ?? new Set<Route>()
    for (const r of route === undefined ? scenario.routes : [route]) set.add(r)
    routes.set(name, set)
  }
  // The table's order, whatever the order of --only.
  return SCENARIOS.filter((s) => routes.has(s.name)).map((s) => ({
    ...s,
    routes: s.routes.filter((r) => routes.get(s.name)!.has(r)),
  }))
}

function timingOf(args: BenchArgs) {
  return {
    reps: args.reps ?? (args.quick ? 1 : 3),
    durationS: args.duration ?? (args.quick ? 1 : 2),
    warmupS: args.warmup ?? (args.quick ? 0.5 : 1),
    connections: args.connections,
  }
}

/** With --check: the pairs of the targets whose two cases both run, in alternating windows. */
function pairsOf(args: BenchArgs, scenarios: Scenario[]) {
  // --quick stays a quick look (under 2 minutes): judged by the medians unless --rounds says so.
  const rounds = args.rounds ?? (args.quick ? 0 : 3)
  if (!args.check || rounds === 0) return undefined
  const selected = new Set(scenarios.flatMap((s) => s.routes.map((r) => `${s.name}/${r}`)))
  const requests = pairRequests().filter((p) => selected.has(p.a) && selected.has(p.b))
  const timing = {
    rounds,
    windowS: args.quick ? 1 : 1.5,
    warmupS: args.warmup ?? (args.quick ? 0.5 : 1),
    connections: args.connections,
  }
  return { requests, timing }
}

function machine() {
  const list = cpus()
  return {
    cpus: list.length,
    model: list[0]?.model ?? 'unknown',
    node: process.version,
    kernel: release(),
    pinned: pinningAvailable(),
  }
}

async function loadRun(args: BenchArgs): Promise<number> {
  const scenarios = selectScenarios(args)
  const timing = timingOf(args)
  console.log(
    `${scenarios.length} scenarios × ${timing.reps} reps, warm-up ${timing.warmupS} s + ` +
      `${timing.durationS} s per case, ${timing.connections} connections` +
      (pinningAvailable() ? '; server on CPU 0, load on CPU 1' : '; taskset missing: NOT pinned'),
  )
  const pairs = pairsOf(args, scenarios)
  const suite = await runSuite(scenarios, {
    ...timing,
    databaseUrl: DATABASE_URL,
    log: (line) => console.log(line),
    ...(pairs === undefined ? {} : { pairs }),
  })
  const summaries = summarize(suite.cases)
  const paired = suite.pairs.map(summarizePair)
  console.log('')
  console.log(table(summaries))
  if (paired.length > 0) console.log(`\n${pairTable(paired)}`)
  for (const s of suite.skipped) console.log(`skipped ${s.scenario}: ${s.reason}`)
  for (const s of suite.pairsSkipped) console.log(`not paired ${s.pair}: ${s.reason}`)
  console.log(
    `\nsteal during the run: ${suite.stealPct.toFixed(1)} %` +
      (suite.stealPct >= 25 ? ' (25 % or more: targets are not judged)' : '') +
      `; ${suite.seconds.toFixed(0)} s in all`,
  )
  const doc = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    timing,
    stealPct: suite.stealPct,
    seconds: suite.seconds,
    cases: summaries,
    skipped: suite.skipped,
    ...(pairs === undefined
      ? {}
      : { pairTiming: pairs.timing, pairs: paired, pairsSkipped: suite.pairsSkipped }),
  }
  let failed = suite.cases.length === 0
  let targets: TargetResult[] | undefined
  let memory: (Awaited<ReturnType<typeof measureMemory>> & MemoryVerdicts) | undefined
  if (args.check) {
    console.log('')
    const result = await measureMemory()
    const verdicts = judgeMemory(result)
    console.log(memoryReport(result, verdicts))
    memory = { ...result, ...verdicts }
    targets = [...judge(summaries, paired), ...memoryTargets(verdicts, result.bytesPerSession)]
    console.log(
      `\ntargets (issue 12 "Targets", issue 14 point 6), steal ${suite.stealPct.toFixed(1)} %:`,
    )
    console.log(targetTable(targets))
    failed ||= targets.some((t) => t.verdict === 'FAIL')
  }
  writeResults(args, { ...doc, targets, memory })
  return failed ? 1 : 0
}

function memoryTargets(v: MemoryVerdicts, bytes: number): TargetResult[] {
  const what = 'MemoryStore, 100,000 small sessions'
  return [
    {
      id: 'memory-per-session',
      what: `${what}: heap per session`,
      measured: `${bytes.toFixed(0)} B`,
      wanted: '< 1024 B',
      verdict: v.perSession,
    },
    {
      id: 'memory-flat-eviction',
      what: `${what}: heap flat as eviction goes on`,
      measured: '',
      wanted: 'flat',
      verdict: v.flatAfterEviction,
    },
    {
      id: 'memory-flat-sweep',
      what: `${what}: heap back to empty once swept`,
      measured: '',
      wanted: 'flat',
      verdict: v.flatAfterSweep,
    },
  ]
}

/** bench/results/<file> (latest.json, micro.json, memory.json), and `--json` when given. */
function writeResults(args: BenchArgs, doc: object, file = 'latest.json'): void {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, file), JSON.stringify(doc, null, 2) + '\n')
  if (args.json !== null) writeFileSync(args.json, JSON.stringify(doc, null, 2) + '\n')
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2))
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  stopChildrenOnExit(async () => {})
  ensureBuild(ROOT)
  if (args.micro) {
    const micro = await runMicro()
    writeResults(args, { date: new Date().toISOString(), machine: machine(), micro }, 'micro.json')
    return 0
  }
  if (args.memory) {
    const result = await measureMemory()
    const verdicts = judgeMemory(result)
    console.log(memoryReport(result, verdicts))
    const memory = { ...result, ...verdicts }
    writeResults(
      args,
      { date: new Date().toISOString(), machine: machine(), memory },
      'memory.json',
    )
    return Object.values(verdicts).includes('FAIL') ? 1 : 0
  }
  if (args.profile !== null) {
    const [scenario] = selectScenarios({ ...args, only: [args.profile] })
    return runProfile(scenario!, {
      ...timingOf(args),
      durationS: args.duration ?? 10,
      warmupS: args.warmup ?? 2,
      databaseUrl: DATABASE_URL,
      resultsDir: RESULTS,
      root: ROOT,
    })
  }
  return loadRun(args)
}

main().then(
  async (code) => {
    await stopAll()
    process.exit(code)
  },
  async (err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    await stopAll()
    process.exit(1)
  },
)
