/**
 * One measured case: a scenario's route under load. The harness logs in (or forges, or sends
 * nothing), probes one request for its cookie sizes, runs a warm-up, then brackets the measured
 * window with the server's own counters (CPU time, requests, SQL statements, Redis batches), the
 * Redis command counts and /proc/stat.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadGenerator, ScenarioServer } from './children.js'
import { JIFFY_US, readCpuTimes } from './machine.js'
import { cookieHeader, get, setCookieBytes, type Answer } from './probe.js'
import type { LoadJob, LoadResult, Mark } from './protocol.js'
import type { BenchRedis } from './redis.js'
import type { Route, Scenario } from './scenarios.js'
import { commandDelta, otherLoadPercent, stealPercent, sum } from './stats.js'
import { forgeToken } from './forge.js'
import { randomBytes } from 'node:crypto'

export interface Timing {
  warmupS: number
  durationS: number
  connections: number
}

/** One repetition of one case. */
export interface Sample {
  rps: number
  p50Ms: number
  p99Ms: number
  cpuUsPerReq: number
  /** Redis commands per request (INFO commandstats; each command inside a script counts). */
  redisCmdsPerReq: number | null
  redisByCommand: Record<string, number> | null
  /**
   * Batches the server wrote to Redis per request, one request at a time (under load the client
   * merges the commands of concurrent requests into shared batches): its round trips.
   */
  redisRoundTripsPerReq: number | null
  sqlPerReq: number | null
  rssBytes: number
  /** Bytes of the credential each request sends (`Cookie` or `Authorization` value). */
  cookieBytes: number
  /** Bytes of Set-Cookie lines on one request of this route (after login). */
  setCookieBytes: number
  /** Bytes of Set-Cookie lines (or X-Session-Token) the login answered with. */
  loginSetCookieBytes: number
  statuses: Record<string, number>
  /** Status of the probe request (one request of the route, before the load). */
  probeStatus: number
  errors: number
  stealPct: number
  /** Busy time of CPU 0 not spent by the server, as a percentage of the window. */
  otherLoadPct: number
  serverRequests: number
  /** The measured window on the server's monotonic clock, in µs. */
  windowHrUs: [number, number]
}

export interface Credential {
  headers: Record<string, string>
  forge?: LoadJob['forge']
  loginBytes: number
}

const EXPIRY_WAIT_MS = 1100

/** Logs in (or not) the way the scenario's load does; the headers every request then sends. */
export async function credential(scenario: Scenario, port: number): Promise<Credential> {
  switch (scenario.credential) {
    case 'none':
      return { headers: {}, loginBytes: 0 }
    case 'bearer': {
      const login = await get(port, '/login', { 'x-session-transport': 'bearer' })
      const token = login.headers['x-session-token']
      if (typeof token !== 'string' || token === '') throw new Error('no X-Session-Token at login')
      return {
        headers: { authorization: `Bearer ${token}` },
        loginBytes: Buffer.byteLength(token),
      }
    }
    case 'login':
    case 'expired':
    case 'forged-new':
    case 'forged-fixed': {
      const login = await get(port, '/login', {})
      if (login.status !== 200) throw new Error(`GET /login answered ${login.status}`)
      const cookie = cookieHeader(login)
      if (cookie === '') throw new Error('GET /login set no cookie')
      const loginBytes = setCookieBytes(login)
      if (scenario.credential === 'login') return { headers: { cookie }, loginBytes }
      if (scenario.credential === 'expired') {
        // Past the server's 1 s absoluteTimeout: signed by the server, refused as expired.
        await sleep(EXPIRY_WAIT_MS)
        return { headers: { cookie }, loginBytes }
      }
      const [name, template] = cookie.split('; ')[0]!.split('=') as [string, string]
      const mode = scenario.credential === 'forged-new' ? 'new' : 'fixed'
      return { headers: {}, forge: { mode, name, template }, loginBytes }
    }
  }
}

function credentialBytes(c: Credential): number {
  if (c.forge !== undefined) {
    return Buffer.byteLength(`${c.forge.name}=${forgeToken(c.forge.template, randomBytes)}`)
  }
  return Buffer.byteLength(c.headers['cookie'] ?? c.headers['authorization'] ?? '')
}

const SEQUENTIAL = 20

/**
 * A case must answer as its scenario says, or its figures measure something else: a logged-in
 * session reads and writes its data; no cookie, a forged one or an expired one reads as nobody
 * (or, forged past the throttle's limit, is refused with 429).
 */
function checkProbe(scenario: Scenario, route: Route, probe: Answer): void {
  const loggedIn = scenario.credential === 'login' || scenario.credential === 'bearer'
  const expected = !loggedIn ? /^\{"user":null\}$/ : route === 'me' ? /^\{"n":\d+\}$/ : /"id":"u1"/
  const throttled = scenario.credential === 'forged-new' && probe.status === 429
  if (!throttled && (probe.status !== 200 || !expected.test(probe.body))) {
    throw new Error(`/${route} answered ${probe.status} ${probe.body.slice(0, 80)}`)
  }
}

/** Redis batches per request over requests sent one at a time, before the load. */
async function sequentialRoundTrips(
  server: ScenarioServer,
  path: string,
  cred: Credential,
): Promise<number> {
  const before = await server.mark()
  for (let i = 0; i < SEQUENTIAL; i++) {
    const headers = { ...cred.headers }
    if (cred.forge !== undefined) {
      headers['cookie'] = `${cred.forge.name}=${forgeToken(cred.forge.template, randomBytes)}`
    }
    await get(server.port, path, headers)
  }
  const after = await server.mark()
  return (after.redisBatches - before.redisBatches) / SEQUENTIAL
}

/** What one load window did, read from the server's counters around it. */
export interface LoadWindow {
  result: LoadResult
  mark0: Mark
  mark1: Mark
  /** Requests the server counted in the window (at least 1). */
  served: number
  /** The server's CPU time in the window, µs. */
  cpuUs: number
  /** Requests per second, as the load counted them. */
  rps: number
  /** The server's CPU time per request it served, µs. */
  cpuUsPerReq: number
}

/** Runs one load job against a started server, bracketed by the server's own counters. */
export async function loadWindow(
  server: ScenarioServer,
  load: LoadGenerator,
  job: Omit<LoadJob, 'type' | 'id'>,
): Promise<LoadWindow> {
  const mark0 = await server.mark()
  const result = await load.run(job)
  const mark1 = await server.mark()
  const served = Math.max(1, mark1.requests - mark0.requests)
  const cpuUs = mark1.cpu.user + mark1.cpu.system - (mark0.cpu.user + mark0.cpu.system)
  const rps = result.requests / result.seconds
  return { result, mark0, mark1, served, cpuUs, rps, cpuUsPerReq: cpuUs / served }
}

/** A case made ready for load: its probe answered as the scenario says, and its load job. */
export interface PreparedRoute {
  probe: Answer
  job: Omit<LoadJob, 'type' | 'id' | 'seconds'>
}

/** Probes one route of a scenario with `cred` and builds its load job; throws on a wrong answer. */
export async function prepareRoute(
  scenario: Scenario,
  route: Route,
  port: number,
  cred: Credential,
  connections: number,
): Promise<PreparedRoute> {
  const path = `/${route}`
  const probeHeaders = { ...cred.headers }
  if (cred.forge !== undefined) {
    probeHeaders['cookie'] = `${cred.forge.name}=${forgeToken(cred.forge.template, randomBytes)}`
  }
  const probe = await get(port, path, probeHeaders)
  checkProbe(scenario, route, probe)
  const job = {
    port,
    path,
    headers: cred.headers,
    connections,
    ...(cred.forge === undefined ? {} : { forge: cred.forge }),
  }
  return { probe, job }
}

/** Measures every route of `scenario` on a started server; one sample per route. */
export async function measureRoutes(
  scenario: Scenario,
  server: ScenarioServer,
  load: LoadGenerator,
  redis: BenchRedis | null,
  timing: Timing,
): Promise<Map<Route, Sample>> {
  const samples = new Map<Route, Sample>()
  const cred = await credential(scenario, server.port)
  for (const route of scenario.routes) {
    const { probe, job } = await prepareRoute(
      scenario,
      route,
      server.port,
      cred,
      timing.connections,
    )
    const usesRedis = scenario.store === 'redis'
    const roundTrips = usesRedis ? await sequentialRoundTrips(server, job.path, cred) : null
    await load.run({ ...job, seconds: timing.warmupS })
    const cpu0 = readCpuTimes()
    const stats0 = redis === null ? null : await redis.commandStats()
    const window = await loadWindow(server, load, { ...job, seconds: timing.durationS })
    const { result, mark0, mark1, served, cpuUs } = window
    const stats1 = redis === null ? null : await redis.commandStats()
    const cpu1 = readCpuTimes()
    const byCommand = stats0 !== null && stats1 !== null ? commandDelta(stats0, stats1) : null
    samples.set(route, {
      rps: window.rps,
      p50Ms: result.latencyP50Ms,
      p99Ms: result.latencyP99Ms,
      cpuUsPerReq: window.cpuUsPerReq,
      redisCmdsPerReq: usesRedis && byCommand !== null ? sum(byCommand) / served : null,
      redisByCommand: usesRedis ? byCommand : null,
      redisRoundTripsPerReq: roundTrips,
      sqlPerReq: scenario.store === 'postgres' ? (mark1.sql - mark0.sql) / served : null,
      rssBytes: mark1.rss,
      cookieBytes: credentialBytes(cred),
      setCookieBytes: setCookieBytes(probe),
      loginSetCookieBytes: cred.loginBytes,
      statuses: result.statuses,
      probeStatus: probe.status,
      errors: result.errors,
      stealPct: stealPercent(cpu0.all, cpu1.all),
      otherLoadPct: otherLoadPercent(cpu0.cpu0, cpu1.cpu0, cpuUs, JIFFY_US),
      serverRequests: served,
      windowHrUs: [mark0.hrUs, mark1.hrUs],
    })
  }
  return samples
}
