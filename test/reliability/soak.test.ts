/**
 * Soak (issue 13, point 4): the reference app under a bounded 60-second load, once on MemoryStore
 * and once on SQLite, both at the same time, each in its own process (test/helpers/soak-app.ts)
 * sampling its memory every second after a full GC. Logged-in browsers (JSON calls, CSRF form
 * posts, renewals every 3 s, re-authentication, logout), a header-token client and anonymous or
 * forged-cookie visitors, at a fixed pace, on 127.0.0.1. After warm-up the retained heap and the
 * active handles must stay flat, and the MemoryStore within its bound; nobody is logged out and no
 * request gets a 5xx. RSS at start and end is reported.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, type TestContext } from 'node:test'
import { Client, formToken, HTML, newSecret } from '../app/harness.js'

const SOAK_MS = Number(process.env['SOAK_MS'] ?? 60_000)
const WARMUP_MS = SOAK_MS / 3
/**
 * The soak app's MemoryStore bound: renewal markers (one per renewal, every 3 s per client) fill
 * it within the warm-up, so the run shows the store held at its bound; the default bound
 * (10,000) is held under 100,000 sessions in bounds.test.ts.
 */
const MAX_ENTRIES = 20
const SOAK_APP = new URL('../helpers/soak-app.ts', import.meta.url).pathname

interface Sample {
  t: number
  rss: number
  heapUsed: number
  external: number
  handles: Record<string, number>
  sessions?: number
}

interface SoakApp {
  url: string
  samples: Sample[]
  stop(): Promise<void>
}

/** Starts the soak app on `store`; stopped by pid after the test. */
function startSoakApp(t: TestContext, store: 'memory' | 'sqlite'): Promise<SoakApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-soak-'))
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SOAK_APP], {
    env: {
      ...process.env,
      SOAK_STORE: store,
      SOAK_DATA_DIR: dir,
      SOAK_SECRET: newSecret(),
      SOAK_MAX_ENTRIES: String(MAX_ENTRIES),
      SOAK_MAX_MS: String(SOAK_MS + 60_000),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  t.after(stop)
  const samples: Sample[] = []
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`soak app exited (${code}): ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('SAMPLE ')) samples.push(JSON.parse(line.slice(7)) as Sample)
      if (line.startsWith('READY '))
        resolve({ url: `http://127.0.0.1:${line.slice(6)}`, samples, stop })
    })
  })
}

/** Status counts, and the clients' requests not answered as a logged-in user's should be. */
class Tally {
  readonly statuses = new Map<number, number>()
  /** A logged-in client's request answered 401. */
  loggedOut = 0
  /** A logged-in client's request answered otherwise than expected (e.g. 403, 409, 429). */
  readonly unexpected = new Map<string, number>()
  count(status: number): number {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
    return status
  }
  /** Counts a logged-in client's answer, which must be `wanted`. */
  expect(what: string, status: number, wanted: number): void {
    this.count(status)
    if (status === 401) this.loggedOut++
    const key = `${what} ${status}`
    if (status !== wanted) this.unexpected.set(key, (this.unexpected.get(key) ?? 0) + 1)
  }
  get total(): number {
    return [...this.statuses.values()].reduce((a, b) => a + b, 0)
  }
  get serverErrors(): number {
    return [...this.statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0)
  }
}

const PASSWORDS: Record<string, string> = { alice: 'correct-horse', bob: 'battery-staple' }
const PACE_MS = 100

/** A browser: logs in, uses the JSON routes and a CSRF form for 15 s, logs out; again. */
async function browser(url: string, username: string, until: number, tally: Tally) {
  while (Date.now() < until) {
    const client = new Client(url, `soak-${username}`)
    tally.expect('login', (await client.login(username, PASSWORDS[username]!)).status, 200)
    const loggedInUntil = Math.min(until, Date.now() + 15_000)
    let step = 0
    while (Date.now() < loggedInUntil) {
      const path = ['/profile', '/sessions', '/csrf-token'][step % 3]!
      const res = await client.get(path, { accept: 'application/json' })
      tally.expect(path, res.status, 200)
      step++
      await sleep(PACE_MS)
    }
    // A form post with the page's CSRF token: re-authentication, as a person would type it.
    const page = await client.get('/reauth', HTML)
    const form = { _csrf: formToken(page.text), password: PASSWORDS[username]! }
    const reauth = await client.send('POST', '/reauth', {
      form,
      headers: { ...HTML, 'sec-fetch-site': 'same-origin' },
    })
    tally.expect('reauth form', reauth.status, 303)
    tally.expect('logout', (await client.post('/logout')).status, 200)
  }
}

/** A mobile client with a header token, renewed as the answers say. */
async function bearer(url: string, until: number, tally: Tally) {
  while (Date.now() < until) {
    const login = await fetch(url + '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-transport': 'bearer' },
      body: JSON.stringify({ username: 'bob', password: 'battery-staple' }),
    })
    await login.text()
    tally.expect('bearer login', login.status, 200)
    let token = login.headers.get('x-session-token') ?? ''
    const loggedInUntil = Math.min(until, Date.now() + 15_000)
    while (Date.now() < loggedInUntil) {
      const res = await fetch(url + '/profile', { headers: { authorization: `Bearer ${token}` } })
      await res.text()
      tally.expect('bearer /profile', res.status, 200)
      token = res.headers.get('x-session-token') || token
      await sleep(PACE_MS)
    }
    const out = await fetch(url + '/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    await out.text()
    tally.expect('bearer logout', out.status, 200)
  }
}

/** Visitors without a session, and with a forged cookie (throttled after 20 a minute). */
async function visitors(url: string, until: number, tally: Tally) {
  const forged = 'sid=t1.AAAAAAAA.mxbjwcgf.' + 'A'.repeat(43) + '.' + 'B'.repeat(43)
  for (let i = 0; Date.now() < until; i++) {
    const [path, headers] =
      i % 3 === 0
        ? ['/login', HTML]
        : i % 3 === 1
          ? ['/csrf-token', {}]
          : ['/profile', { cookie: forged }]
    const res = await fetch(url + path, { headers, redirect: 'manual' })
    await res.text()
    tally.count(res.status)
    await sleep(PACE_MS / 2)
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1)

/**
 * Tolerances, from runs of this soak (60 s and 180 s) on the 2-core CI machine:
 * - Retained heap (after a full GC) rises about 0.6 MB between 20 s and 60 s, on both stores alike,
 *   and levels off by 90 s (12.3 → 13.1 MB, then 13.1 → 13.3 MB over the next 90 s): V8's own
 *   warm-up (feedback, compiled code, interned strings), not the sessions. HEAP_GROWTH_MAX allows
 *   three times that, and is still under 1 kB per request after warm-up (about 2,200 per app): a
 *   leaked request, socket listener or closure over either (several kB each) fails it.
 * - Active handles (sockets, timers) stay between 7 and 11: the VUs' keep-alive connections, the
 *   listening socket, the store's and the sampler's timers. A timer or socket per request would
 *   be thousands; HANDLES_MAX leaves room for every client reconnecting at once.
 * - RSS is the allocator's business (it grows in arenas and seldom gives memory back); it is
 *   reported, and only a rise past RSS_GROWTH_MAX after warm-up fails.
 */
const HEAP_GROWTH_MAX = 2_000_000
const HANDLES_MAX = 24
const RSS_GROWTH_MAX = 32_000_000

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function soak(t: TestContext, store: 'memory' | 'sqlite') {
  const app = await startSoakApp(t, store)
  const until = Date.now() + SOAK_MS
  const tally = new Tally()
  await Promise.all([
    browser(app.url, 'alice', until, tally),
    browser(app.url, 'alice', until, tally),
    browser(app.url, 'bob', until, tally),
    bearer(app.url, until, tally),
    visitors(app.url, until, tally),
  ])
  await sleep(1100) // one more sample after the load
  await app.stop()
  const samples = app.samples
  assert.ok(samples.length >= SOAK_MS / 1000 - 5, `${samples.length} samples`)
  const settled = samples.filter((s) => s.t >= WARMUP_MS)
  const first = samples[0]!
  const warm = settled[0]!
  const last = samples.at(-1)!
  // Medians of three samples at each end, so one sample taken mid-burst decides nothing.
  const heapAtWarm = median(settled.slice(0, 3).map((s) => s.heapUsed))
  const heapAtEnd = median(settled.slice(-3).map((s) => s.heapUsed))
  const handles = (s: Sample) => Object.values(s.handles).reduce((a, b) => a + b, 0)
  const mostHandles = Math.max(...settled.map(handles))
  const statuses = [...tally.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`)
  const held = samples.flatMap((s) => (s.sessions === undefined ? [] : [s.sessions]))
  t.diagnostic(
    `${store}: ${tally.total} requests in ${SOAK_MS / 1000} s (${statuses.join(', ')}); ` +
      `RSS ${mb(first.rss)} MB at start, ${mb(warm.rss)} after warm-up, ${mb(last.rss)} at end; ` +
      `heap after GC ${mb(heapAtWarm)} → ${mb(heapAtEnd)} MB after warm-up; ` +
      `handles at most ${mostHandles}` +
      (held.length === 0
        ? ''
        : `; sessions held at most ${Math.max(...held)} (bound ${MAX_ENTRIES})`),
  )
  assert.equal(tally.serverErrors, 0, 'no 5xx')
  assert.equal(tally.loggedOut, 0, 'nobody logged out')
  assert.deepEqual(Object.fromEntries(tally.unexpected), {}, 'every client request as expected')
  assert.ok(heapAtEnd - heapAtWarm < HEAP_GROWTH_MAX, `heap grew ${heapAtEnd - heapAtWarm} bytes`)
  assert.ok(mostHandles <= HANDLES_MAX, `${mostHandles} active handles`)
  assert.ok(last.rss - warm.rss < RSS_GROWTH_MAX, `RSS grew ${last.rss - warm.rss} bytes`)
  if (store === 'memory') {
    // At the bound, less the few sessions of clients that just logged out when it was sampled.
    const heldAfterWarmUp = settled.map((s) => s.sessions!)
    assert.ok(Math.max(...held) <= MAX_ENTRIES, `held ${Math.max(...held)}, bound ${MAX_ENTRIES}`)
    assert.ok(Math.min(...heldAfterWarmUp) >= MAX_ENTRIES - 5, 'the store is at its bound')
  }
}

describe('the reference app under a 60-second load', { concurrency: true }, () => {
  it('stays flat on MemoryStore', (t) => soak(t, 'memory'))
  it('stays flat on SQLite', (t) => soak(t, 'sqlite'))
})
