/**
 * One fault under steady load, shared by the Redis and PostgreSQL fault files: logged-in users read
 * and write at a fixed rate while the test takes the store away (`down`) for a few seconds and
 * gives it back (`up`), with no restart of the app. The answers are sorted by phase (before the
 * fault, during it, after it settled) and checked against what the policy promises; the figures are
 * reported as a diagnostic line.
 *
 * Phases and limits go by the app's own clock: when a request reached the app's first middleware
 * and when its response finished. The client's latency adds the wait before the process reads the
 * request; on a starved machine (2 shared cores, other test runs beside) that queue alone reached
 * seconds while no request spent long in the app, so it is reported, not asserted (a request with
 * no answer within 10 s still fails). A stalled event loop delays the app's own timers too: its
 * worst stall is measured, reported and added to the limits.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { TestContext } from 'node:test'
import type { FaultApp } from '../helpers/fault-app.js'
import {
  reportLine,
  steadyLoad,
  summarize,
  type LoadUser,
  type Sample,
} from '../helpers/fault-load.js'
import { send } from '../helpers/http.js'

/** Time in the app beyond the store's limit (HTTP parsing, Express, JSON, the event loop). */
export const LATENCY_MARGIN_MS = 300
export const RATE_PER_S = 100
/** Failure bursts one outage may open at its edges (see the store.error check). */
export const MAX_BURSTS = 5
export const USERS = 20

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Fault {
  /** Report name, e.g. `redis SIGKILL + restart (fail-closed)`. */
  name: string
  down(): Promise<void> | void
  /** Resolves once the store answers again. */
  up(): Promise<void> | void
}

export interface Expectation {
  policy: 'fail-closed' | 'anonymous'
  storeTimeoutMs: number
  /** After the store is back: users still logged in (`same-user`) or all logged out (an empty store). */
  after: 'same-user' | 'logged-out'
  /** Time after `up` within which answers may still be failures (reconnection, delayed replies). */
  settleMs: number
  beforeMs?: number
  downMs?: number
  afterMs?: number
}

/** An answer with the app's timing of it. */
export interface Timed extends Sample {
  /** When the request reached the app (epoch ms); its send time if it never did. */
  at: number
  /** When its response finished in the app; Infinity if it never did. */
  doneInAppAt: number
}

interface Timeline {
  downAt: number
  downDoneAt: number
  upAt: number
  upDoneAt: number
}

export interface FaultRun {
  samples: Timed[]
  users: LoadUser[]
  /** Each user's cookie as its login set it (the users' jars may have changed since). */
  loginCookies: string[]
  timeline: Timeline
  /** store.error events emitted during the run. */
  storeErrors: number
}

/** Logs `count` users in (each its own session) and returns their cookies. */
export async function loginUsers(port: number, count: number): Promise<LoadUser[]> {
  const tag = randomBytes(3).toString('hex')
  return Promise.all(
    Array.from({ length: count }, async function loginOne(_, i) {
      const user = `u${tag}-${i}`
      const res = await send(port, { method: 'POST', path: `/login?user=${user}` })
      assert.equal(res.status, 200, `login of ${user} answered ${res.status}`)
      const cookie = res.setCookies.find((c) => c.startsWith('sid='))?.split(';')[0]
      assert.ok(cookie, 'login sets the session cookie')
      return { user, cookie, acknowledged: [] }
    }),
  )
}

async function inject(fault: Fault, beforeMs: number, downMs: number): Promise<Timeline> {
  await sleep(beforeMs)
  const downAt = Date.now()
  await fault.down()
  const downDoneAt = Date.now()
  await sleep(Math.max(0, downAt + downMs - Date.now()))
  const upAt = Date.now()
  await fault.up()
  return { downAt, downDoneAt, upAt, upDoneAt: Date.now() }
}

/** Answers per half second (by arrival in the app) from the fault on: `+0.5s 503x50 | ...`. */
function timelineOf(samples: Timed[], t: Timeline): string {
  const buckets = new Map<number, Map<string, number>>()
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    const at = Math.floor((s.at - t.downAt) / 500) * 500
    const outcome = `${s.status}${s.status === 200 && !s.asUser ? '(anon)' : ''}`
    const bucket = buckets.get(at) ?? new Map<string, number>()
    bucket.set(outcome, (bucket.get(outcome) ?? 0) + 1)
    buckets.set(at, bucket)
  }
  const parts = [...buckets].map(([at, counts]) => {
    const list = [...counts].map(([outcome, n]) => `${outcome}x${n}`).join(' ')
    return `${at >= 0 ? '+' : ''}${(at / 1000).toFixed(1)}s ${list}`
  })
  return `store back at +${((t.upDoneAt - t.downAt) / 1000).toFixed(2)}s; ${parts.join(' | ')}`
}

function slowest(list: Timed[], time: (s: Timed) => number): number {
  return list.reduce((max, s) => Math.max(max, time(s)), 0)
}

/** Runs the load through the fault, checks every answer, and returns them. */
export async function loadThroughFault(
  t: TestContext,
  app: FaultApp,
  fault: Fault,
  expect: Expectation,
): Promise<FaultRun> {
  const { beforeMs = 1000, downMs = 3000, afterMs = 3000 } = expect
  const users = await loginUsers(app.port, USERS)
  const loginCookies = users.map((u) => u.cookie!)
  const eventsBefore = app.events.length
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const [sent, timeline] = await Promise.all([
    steadyLoad({
      port: app.port,
      users,
      ratePerS: RATE_PER_S,
      durationMs: beforeMs + downMs + afterMs,
      keyPrefix: `k${randomBytes(3).toString('hex')}-`,
      hardLimitMs: 10_000,
    }),
    inject(fault, beforeMs, downMs),
  ])
  loopDelay.disable()
  const stallMs = Math.round(loopDelay.max / 1e6)
  const samples: Timed[] = sent.map(function timedByApp(s) {
    const h = app.handled.get(s.id)
    return { ...s, at: h?.at ?? s.sentAt, doneInAppAt: h?.doneAt ?? Infinity }
  })
  const { downAt, downDoneAt, upAt, upDoneAt } = timeline
  const settledAt = upDoneAt + expect.settleMs
  const inApp = (s: Timed) => s.doneInAppAt - s.at
  const latency = (s: Timed) => s.doneAt - s.sentAt
  // storeTimeout bounds each store call. A read makes one (get; the revocation mark is read
  // beside it), a write two in a row (get, then update at the end of the request), so a write
  // whose calls are each just under the limit (a store turning fast again) takes up to twice it.
  const limitMs = expect.storeTimeoutMs + LATENCY_MARGIN_MS + stallMs
  const limitOf = (s: Timed) =>
    (s.kind === 'write' ? 2 : 1) * expect.storeTimeoutMs + LATENCY_MARGIN_MS + stallMs

  const before = samples.filter((s) => s.doneInAppAt < downAt)
  const during = samples.filter((s) => s.at > downDoneAt && s.doneInAppAt < upAt)
  const after = samples.filter((s) => s.at > settledAt)
  const storeErrors = app.events.slice(eventsBefore).filter((e) => e.type === 'store.error')
  const recovered = samples
    .filter((s) => s.at >= upDoneAt && s.status === 200)
    .sort((a, b) => a.at - b.at)[0]
  // Under 'anonymous', a write whose load failed while the store was away and whose commit
  // succeeded once it was back stores a new, empty session, and its cookie replaces the user's
  // (docs/options.md, onStoreError): that user is logged out, the old session is still stored.
  const replaced = new Set(users.filter((u, i) => u.cookie !== loginCookies[i]).map((u) => u.user))
  const timelineText = timelineOf(samples, timeline)
  t.diagnostic(
    reportLine(
      fault.name,
      summarize(sent),
      `max time in the app ${slowest(samples, inApp)} ms (during the fault ` +
        `${slowest(during, inApp)} ms); max client latency during the fault ` +
        `${slowest(during, latency)} ms; event-loop stall max ${stallMs} ms; store.error events: ` +
        `${storeErrors.length} (at ${storeErrors.map((e) => `+${e.time - downAt}`).join(', ')} ms); ` +
        `users whose cookie was replaced: ${replaced.size}; down ` +
        `${upAt - downAt} ms; first 200 after up: ` +
        (recovered === undefined ? 'none' : `${recovered.doneInAppAt - upDoneAt} ms`),
    ),
  )

  assert.deepEqual(app.unexpected, [], 'no error other than Tether’s reached the app')
  for (const s of samples) {
    assert.ok(
      s.status === 200 || s.status === 503,
      `${s.kind} answered ${s.status} ${s.error ?? ''}`,
    )
    assert.ok(
      inApp(s) <= limitOf(s),
      `a ${s.kind} that reached the app ${s.at - downAt} ms from the fault spent ${inApp(s)} ms ` +
        `there, answered ${s.status}: over its store calls' limit (${limitOf(s)} ms, with a ` +
        `stall of ${stallMs} ms); ${timelineText}`,
    )
    if (s.status === 503) assert.equal(s.retryAfter, '1', '503 carries Retry-After: 1')
  }
  assert.ok(before.length >= (RATE_PER_S * beforeMs) / 2000, `load before: ${before.length}`)
  assert.ok(during.length >= (RATE_PER_S * downMs) / 2000, `load during: ${during.length}`)
  assert.ok(after.length >= RATE_PER_S / 2, `load after the store settled: ${after.length}`)
  assert.ok(
    slowest(during, inApp) <= limitMs,
    `during the fault a request spent ${slowest(during, inApp)} ms in the app, over ` +
      `storeTimeout + margin (${limitMs} ms, with a stall of ${stallMs} ms)`,
  )
  assert.ok(
    before.every((s) => s.status === 200 && s.asUser),
    `before the fault, every request is served as its user; ${timelineText}`,
  )
  const wrongDuring = during.filter((s) =>
    expect.policy === 'fail-closed' ? s.status !== 503 : s.status !== 200 || s.asUser,
  )
  assert.equal(
    wrongDuring.length,
    0,
    (expect.policy === 'fail-closed'
      ? 'during the fault every request is refused with 503'
      : 'during the fault every request is served anonymous (200)') + `; ${timelineText}`,
  )
  if (expect.policy === 'fail-closed' && expect.after === 'same-user') {
    assert.deepEqual([...replaced], [], 'fail-closed never replaces a logged-in user’s cookie')
  }
  const wrongAfter = after.filter((s) =>
    expect.after === 'same-user'
      ? !(s.status === 200 && (s.asUser || replaced.has(s.user)))
      : s.status !== 200 || s.asUser,
  )
  assert.equal(
    wrongAfter.length,
    0,
    (expect.after === 'same-user'
      ? 'once the store is back, every request is served as its user again, with no app restart'
      : 'once the store is back (empty), every request is served, logged out') +
      `; ${timelineText}`,
  )
  // Once per failure burst: the first failure after a success emits, until a call succeeds again.
  // A store going away flaps for a moment (a PostgreSQL backend answers a query already sent
  // before it notices its postmaster is gone; a reply sent just before the slowdown still comes
  // in time), so a few bursts can open at the edge; one per failed request would be hundreds.
  const failed = samples.filter((s) => s.status === 503 || (s.status === 200 && !s.asUser))
  assert.ok(
    storeErrors.length >= 1 && storeErrors.length <= MAX_BURSTS,
    `store.error once per failure burst, not once per request: ${storeErrors.length} events ` +
      `for ${failed.length} requests that failed or went anonymous`,
  )
  assert.ok(
    storeErrors.every((e) => e.time >= downAt && e.time <= settledAt),
    'store.error only while the store was away',
  )
  return { samples, users, loginCookies, timeline, storeErrors: storeErrors.length }
}

/**
 * Every write answered as its user is still in its session afterwards: under `fail-closed` all of
 * them; under `anonymous` those answered before the fault or sent after the store settled (a write
 * failing at the end of a request is dropped by design there; their number is reported).
 */
export async function assertWritesKept(
  t: TestContext,
  app: FaultApp,
  run: FaultRun,
  expect: Pick<Expectation, 'policy' | 'settleMs'>,
  name: string,
): Promise<void> {
  const { downAt, upDoneAt } = run.timeline
  const mustKeep = new Set(
    run.samples
      .filter((s) => s.kind === 'write' && s.asUser)
      .filter(
        (s) =>
          expect.policy === 'fail-closed' ||
          s.doneInAppAt < downAt ||
          s.at > upDoneAt + expect.settleMs,
      )
      .map((s) => s.key!),
  )
  let kept = 0
  let acknowledged = 0
  for (const [i, u] of run.users.entries()) {
    // The session the user logged in to, even if the user's cookie was replaced since.
    const res = await send(app.port, { path: '/dump', headers: { cookie: run.loginCookies[i]! } })
    assert.equal(res.status, 200)
    const body = JSON.parse(res.body) as { user: string | null; keys: string[] }
    assert.equal(body.user, u.user, `the session of ${u.user} is intact after the fault`)
    const keys = new Set(body.keys)
    for (const key of u.acknowledged) {
      acknowledged++
      if (keys.has(key)) kept++
      else if (mustKeep.has(key)) assert.fail(`an acknowledged write of ${u.user} was lost`)
    }
  }
  t.diagnostic(
    `[faults] ${name}: sessions checked ${run.users.length}, lost 0; ` +
      `acknowledged writes ${acknowledged}, found ${kept}` +
      (expect.policy === 'anonymous'
        ? ` (dropped by the anonymous policy: ${acknowledged - kept})`
        : ''),
  )
}

/**
 * The slow-store fault: the proxy in front of the store delays every reply by twice
 * `storeTimeoutMs` for 2 s, then turns fast again. Requests answer 503 within the limit and are
 * served as their users afterwards; every write answered 200 is kept.
 */
export async function loadThroughSlowStore(
  t: TestContext,
  app: FaultApp,
  proxy: { setDelay(ms: number): void },
  storeName: string,
  storeTimeoutMs: number,
): Promise<void> {
  const name = `${storeName} ${storeTimeoutMs * 2} ms slower (fail-closed)`
  // Replies delayed before the proxy turned fast again still arrive late: settle past them.
  const expect = {
    policy: 'fail-closed',
    storeTimeoutMs,
    after: 'same-user',
    settleMs: storeTimeoutMs * 2 + 500,
    downMs: 2000,
  } as const
  const fault = {
    name,
    down: () => proxy.setDelay(storeTimeoutMs * 2),
    up: () => proxy.setDelay(0),
  }
  const run = await loadThroughFault(t, app, fault, expect)
  await assertWritesKept(t, app, run, expect, name)
}
