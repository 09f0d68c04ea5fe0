/**
 * Unknown options are ignored, so a typo in a security setting would silently keep its default:
 * each gets one TETHER_UNKNOWN_OPTION warning at startup, naming the closest known option, for
 * createSessionManager and for the Express middleware (where express-session's own option names
 * are known), nested `classes.*`, `throttle.*` and `cookie.*` keys included.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { createSessionManager } from '../../src/core/manager.js'
import type { ManagerOptions } from '../../src/core/options.js'
import { editDistance } from '../../src/core/unknown-options.js'
import { listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'
import { capturedWarnings } from '../helpers/warnings.js'

/** Options as a caller might write them, unknown keys included. */
function withExtra(extra: Record<string, unknown>): ManagerOptions {
  const options: ManagerOptions = { secret: newSecret(), ...extra }
  return options
}

describe('unknown options', () => {
  it('warns about a misspelt option, naming the closest known one', (t) => {
    const warnings = capturedWarnings(t, 'TETHER_UNKNOWN_OPTION')
    void createSessionManager(withExtra({ idleTimout: '5m' })).close()
    assert.deepEqual(warnings, [
      'tether-session: unknown option "idleTimout" is ignored; did you mean "idleTimeout"?',
    ])
  })

  it('warns about an option with no close match without guessing', (t) => {
    const warnings = capturedWarnings(t, 'TETHER_UNKNOWN_OPTION')
    void createSessionManager(withExtra({ bearer: true })).close()
    assert.deepEqual(warnings, ['tether-session: unknown option "bearer" is ignored'])
  })

  it('warns about unknown keys inside classes and throttle', (t) => {
    const warnings = capturedWarnings(t, 'TETHER_UNKNOWN_OPTION')
    const admin = { secret: newSecret(), idleTimout: '5m' }
    void createSessionManager(withExtra({ classes: { admin }, throttle: { limt: 5 } })).close()
    assert.deepEqual(warnings, [
      'tether-session: unknown option "classes.admin.idleTimout" is ignored; did you mean "classes.admin.idleTimeout"?',
      'tether-session: unknown option "throttle.limt" is ignored; did you mean "throttle.limit"?',
    ])
  })

  it('says nothing about known options', (t) => {
    const warnings = capturedWarnings(t, 'TETHER_UNKNOWN_OPTION')
    void createSessionManager({
      secret: newSecret(),
      idleTimeout: '30m',
      absoluteTimeout: '8h',
      touchAfter: '1m',
      renewAfter: '15m',
      renewGrace: '1m',
      storeTimeout: '1s',
      onStoreError: 'fail-closed',
      maxSessionsPerUser: 5,
      maxSessionBytes: 1000,
      classes: { admin: { secret: newSecret(), idleTimeout: '10m', absoluteTimeout: '1h' } },
      binding: 'log',
      throttle: { limit: 5, window: '1m', maxTracked: 10 },
      onEvent: () => {},
      clock: { now: () => Date.now() },
    }).close()
    assert.deepEqual(warnings, [])
  })

  it('warns once at startup for the Express middleware, knowing express-session option names, not per request', async (t) => {
    const warnings = capturedWarnings(t, 'TETHER_UNKNOWN_OPTION')
    const mw = session({
      secret: newSecret(),
      name: 'sid',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      proxy: false,
      unset: 'keep',
      cookie: { path: '/', maxAge: 60_000, sameSit: 'strict' },
      bearer: true,
      csrf: true,
    } as unknown as Parameters<typeof session>[0])
    t.after(() => mw.manager.close())
    const app = express()
    app.use(mw)
    app.get('/', (req, res) => {
      req.session.views = 1
      res.end()
    })
    const srv = await listen(app)
    t.after(() => srv.close())
    for (let i = 0; i < 3; i++) assert.equal((await send(srv.port)).status, 200)
    assert.deepEqual(warnings, [
      'tether-session: unknown option "cookie.sameSit" is ignored; did you mean "cookie.sameSite"?',
    ])
  })

  it('measures edit distance as insertions, deletions and substitutions', () => {
    const cases: [string, string, number][] = [
      ['', '', 0],
      ['idleTimeout', 'idleTimeout', 0],
      ['idleTimout', 'idleTimeout', 1],
      ['renewafter', 'renewAfter', 1],
      ['kitten', 'sitting', 3],
      ['', 'abc', 3],
    ]
    for (const [a, b, d] of cases) {
      assert.equal(editDistance(a, b), d, `${a} -> ${b}`)
      assert.equal(editDistance(b, a), d, `${b} -> ${a}`)
    }
  })
})
