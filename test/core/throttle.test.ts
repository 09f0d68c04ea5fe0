import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { createThrottle } from '../../src/core/throttle.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { manualClock } from '../helpers/clock.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { spyStore } from '../helpers/spy-store.js'
import { tamper } from '../helpers/tamper.js'

describe('createThrottle', () => {
  it('blocks past the limit within a window, reports once per burst, and resets with the window', () => {
    const clock = manualClock()
    const hit = createThrottle(3, 60_000, 100, clock)
    const verdicts = Array.from({ length: 6 }, () => hit('198.51.100.7'))
    assert.deepEqual(
      verdicts.map((v) => v.blocked),
      [false, false, false, true, true, true],
    )
    assert.deepEqual(
      verdicts.map((v) => v.firstOfBurst),
      [false, false, false, true, false, false],
    )
    assert.equal(verdicts[3]!.retryAfterS, 60)
    assert.equal(hit('203.0.113.1').blocked, false, 'other addresses are counted apart')
    clock.advance(60_000)
    assert.equal(hit('198.51.100.7').blocked, false, 'a new window starts fresh')
  })

  it('forgets the least recently seen address past maxTracked (bounded memory)', () => {
    const clock = manualClock()
    const hit = createThrottle(1, 60_000, 2, clock)
    hit('a')
    hit('a') // a is blocked
    hit('b')
    hit('c') // evicts a
    assert.equal(hit('a').blocked, false)
  })
})

async function app(t: TestContext) {
  const events: TetherEvent[] = []
  const store = spyStore(new MemoryStore())
  const a = express()
  a.set('trust proxy', true) // proxy-aware: the client address comes from X-Forwarded-For
  a.use(
    session({
      secret: newSecret(),
      store,
      throttle: { limit: 5, window: '1m' },
      onEvent: (e) => events.push(e),
    }),
  )
  a.get('/', (req, res) => {
    const s = req.session as unknown as { n?: number }
    s.n = (s.n ?? 0) + 1
    res.json(s.n)
  })
  a.use(function errors(
    err: { status?: number },
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) {
    res.status(err.status ?? 500).end()
  })
  const srv = await listen(a)
  t.after(() => srv.close())
  return { ...srv, events, store }
}

describe('invalid-token throttling over HTTP', () => {
  it('answers 429 with Retry-After past the limit, clears the bad cookie, and never refuses valid or cookie-less requests from the same address', async (t) => {
    const s = await app(t)
    const nat = { 'x-forwarded-for': '198.51.100.7' }
    const good = cookiePair(await send(s.port, { headers: nat }), 'sid')!
    const forged = tamper(good)
    const statuses: number[] = []
    for (let i = 0; i < 8; i++)
      statuses.push((await send(s.port, { headers: { ...nat, cookie: forged } })).status)
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429])
    const blocked = await send(s.port, { headers: { ...nat, cookie: forged } })
    assert.equal(blocked.headers['retry-after'], '60')
    assert.match(blocked.setCookies[0] ?? '', /^sid=; .*Expires=Thu, 01 Jan 1970/)
    assert.equal(
      (await send(s.port, { headers: { ...nat, cookie: good } })).status,
      200,
      'valid cookie behind the same NAT',
    )
    assert.equal(
      (await send(s.port, { headers: nat })).status,
      200,
      'no cookie behind the same NAT',
    )
    assert.equal(
      (await send(s.port, { headers: { 'x-forwarded-for': '203.0.113.9', cookie: forged } }))
        .status,
      200,
      'another address',
    )
    assert.equal(
      s.events.filter((e) => e.type === 'ratelimit.blocked').length,
      1,
      'one event per burst',
    )
    assert.equal(s.store.calls.get, 1, 'only the valid-cookie request read the store')
  })
})
