/**
 * `--profile <scenario>[/route]`: the scenario's server under `node --cpu-prof` with the same
 * load as a measured case (warm-up, then the window), then the top functions by self time in µs
 * per request, inside the window only. The `.cpuprofile` stays in bench/results/ for DevTools.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startLoad, startServer } from './children.js'
import { openEnvironment } from './environment.js'
import { measureRoutes, type Timing } from './measure.js'
import { profileTable, summarizeProfile, type CpuProfile } from './profile.js'
import type { Scenario } from './scenarios.js'

export interface ProfileOptions extends Timing {
  databaseUrl: string
  resultsDir: string
  root: string
}

export async function runProfile(scenario: Scenario, options: ProfileOptions): Promise<number> {
  const route = scenario.routes[0]!
  const name = `${scenario.name}-${route}-${new Date().toISOString().replace(/[:.]/g, '-')}`
  const file = `${name}.cpuprofile`
  // Every thread writes a profile (tsx's loader runs on one of its own): a directory for this run.
  const dir = mkdtempSync(join(options.resultsDir, '.profile-'))
  const environment = await openEnvironment([scenario], options.databaseUrl, console.log)
  try {
    if (environment.runnable.length === 0) {
      console.log(`cannot profile ${scenario.name}: ${environment.skipped[0]?.reason ?? ''}`)
      return 1
    }
    const load = await startLoad()
    const server = await startServer({
      scenario: scenario.name,
      env: environment.env,
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    })
    let sample
    try {
      const one = { ...scenario, routes: [route] }
      const samples = await measureRoutes(one, server, load, environment.redis, options)
      sample = samples.get(route)!
    } finally {
      await server.stop()
      await load.stop()
    }
    const profile = busiestProfile(dir)
    writeFileSync(join(options.resultsDir, file), JSON.stringify(profile))
    rmSync(dir, { recursive: true, force: true })
    const summary = summarizeProfile(
      profile,
      sample.windowHrUs,
      sample.serverRequests,
      options.root,
    )
    console.log(
      `${scenario.name}/${route}: ${sample.rps.toFixed(0)} req/s, ` +
        `${sample.cpuUsPerReq.toFixed(0)} µs CPU/req (process.cpuUsage), ` +
        `${sample.serverRequests} requests in ${options.durationS} s`,
    )
    console.log(profileTable(summary))
    console.log(`profile: ${join(options.resultsDir, file)}`)
    return 0
  } finally {
    await environment.close()
  }
}

/** The profile of the thread that did the work: the one with the most samples that are not idle. */
function busiestProfile(dir: string): CpuProfile {
  let best: { profile: CpuProfile; busy: number } | null = null
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
    const idle = new Set(
      profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
    )
    const busy = profile.samples.filter((id) => !idle.has(id)).length
    if (best === null || busy > best.busy) best = { profile, busy }
  }
  if (best === null) throw new Error(`the server wrote no CPU profile in ${dir}`)
  return best.profile
}
