/**
 * Hostile input at scale (issue 13, point 3): at least 100,000 generated `Cookie` headers per run,
 * and `Authorization: Bearer` headers, against the Express adapter on a real listening server
 * (keep-alive, a few requests in flight). Each is built around real tokens (one character changed,
 * cut, extended, segments swapped) or is random bytes, oversized, duplicated. None may get a 5xx,
 * none may be accepted as a session, and none may cost a store call, since no MAC can match.
 * test/adapters/express.test.ts keeps the hand-written table of such headers; this file runs the
 * generated ones by the hundred thousand.
 */
import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import express, { type ErrorRequestHandler } from 'express'
import fc from 'fast-check'
import session from '../../src/adapters/express/index.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { hostileAuthorization, hostileCookieHeader } from '../helpers/hostile-headers.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'

/** Headers per property run, sent at once on the keep-alive agent's sockets. */
const BATCH = 20
const COOKIE_RUNS = 5_000 // 100,000 Cookie headers
const BEARER_RUNS = 1_000 // 20,000 Authorization headers
/** Real sessions the mutations start from. */
const REAL = 6

const events: TetherEvent[] = []
const store = spyStore(new MemoryStore())
const mw = session({
  secret: newSecret(),
  store,
  bearer: true,
  // Every header must reach the MAC check: the invalid-token throttle would answer most with 429.
  throttle: false,
  onEvent: (e) => events.push(e),
})
const app = express()
app.use(mw)
app.get('/mark', (req, res) => {
  ;(req.session as unknown as Record<string, unknown>)['who'] = 'real'
  res.end('ok')
})
app.get('/peek', (req, res) => {
  res.json({ who: (req.session as unknown as Record<string, unknown>)['who'] ?? null })
})
app.use(((err, _req, res, _next) => {
  res
    .status((err as { status?: number }).status ?? 500)
    .json({ code: (err as { code?: string }).code })
}) as ErrorRequestHandler)

let server: Awaited<ReturnType<typeof listen>>
const agent = new Agent({ keepAlive: true, maxSockets: BATCH })
const cookieTokens: string[] = []
const bearerTokens: string[] = []

interface Answer {
  status: number
  who: string | null
  setCookie: string[]
  sessionToken: string | undefined
}

function get(headers: Record<string, string | string[]>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port: server.port, path: '/peek', headers },
      (res) => {
        let body = ''
        res.setEncoding('latin1')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => {
          let who: string | null = null
          if (res.statusCode === 200) who = (JSON.parse(body) as { who: string | null }).who
          resolve({
            status: res.statusCode ?? 0,
            who,
            setCookie: res.headers['set-cookie'] ?? [],
            sessionToken: res.headers['x-session-token'] as string | undefined,
          })
        })
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')))
    req.on('error', reject)
    req.end()
  })
}

before(async () => {
  server = await listen(app)
  for (let i = 0; i < REAL; i++) {
    cookieTokens.push(cookiePair(await send(server.port, { path: '/mark' }), 'sid')!.slice(4))
    const native = { 'x-session-transport': 'bearer' }
    const issued = await send(server.port, { path: '/mark', headers: native })
    bearerTokens.push(issued.headers['x-session-token'] as string)
  }
  // The real tokens work, so a refusal below is the header's doing and not a broken setup.
  assert.equal((await get({ cookie: `sid=${cookieTokens[0]!}` })).who, 'real')
  assert.equal((await get({ authorization: `Bearer ${bearerTokens[0]!}` })).who, 'real')
})

after(async () => {
  agent.destroy()
  await server.close()
  await mw.manager.close()
})

/** Asserts what every hostile header must get, and counts the statuses in `seen`. */
async function checkBatch(
  headers: Array<Record<string, string | string[]>>,
  seen: Map<number, number>,
) {
  const callsBefore = store.total()
  const answers = await Promise.all(headers.map(get))
  for (const [i, a] of answers.entries()) {
    seen.set(a.status, (seen.get(a.status) ?? 0) + 1)
    const shown = JSON.stringify(headers[i])
    assert.ok(a.status < 500, `${a.status} for ${shown}`)
    assert.equal(a.who, null, `a session was accepted for ${shown}`)
    assert.ok(
      a.sessionToken === undefined || a.sessionToken === '',
      `a token was issued for ${shown}`,
    )
    for (const line of a.setCookie) assert.match(line, /^sid=;/, `a cookie was issued for ${shown}`)
  }
  assert.equal(store.total(), callsBefore, `a store call for one of ${JSON.stringify(headers)}`)
}

function report(name: string, count: number, seen: Map<number, number>): string {
  const statuses = [...seen]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ')
  return `${name}: ${count} headers tried (${statuses})`
}

/**
 * Sends `runs` batches of values from `values` in the header `name` (every answer checked by
 * `checkBatch`); returns how many were sent, per status.
 */
async function sendHostile(
  name: 'cookie' | 'authorization',
  values: fc.Arbitrary<string | string[]>,
  runs: number,
): Promise<{ tried: number; seen: Map<number, number> }> {
  const seen = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(fc.array(values, { minLength: BATCH, maxLength: BATCH }), (batch) =>
      checkBatch(
        batch.map((value) => ({ [name]: value })),
        seen,
      ),
    ),
    { numRuns: runs },
  )
  const tried = [...seen.values()].reduce((a, b) => a + b, 0)
  assert.ok(tried >= runs * BATCH)
  return { tried, seen }
}

describe('express adapter under generated hostile headers', () => {
  it(`answers ${COOKIE_RUNS * BATCH} hostile Cookie headers without a 5xx, a session or a store call`, async (t) => {
    const eventsBefore = events.length
    const { tried, seen } = await sendHostile(
      'cookie',
      hostileCookieHeader(cookieTokens),
      COOKIE_RUNS,
    )
    const types = new Set(events.slice(eventsBefore).map((e) => e.type))
    assert.deepEqual(
      [...types].filter((type) => !type.startsWith('token.')),
      [],
      'only token.* events',
    )
    t.diagnostic(report('Cookie', tried, seen))
  })

  it(`answers ${BEARER_RUNS * BATCH} hostile Authorization headers without a 5xx, a session or a store call`, async (t) => {
    const { tried, seen } = await sendHostile(
      'authorization',
      hostileAuthorization(bearerTokens),
      BEARER_RUNS,
    )
    t.diagnostic(report('Authorization', tried, seen))
  })
})
