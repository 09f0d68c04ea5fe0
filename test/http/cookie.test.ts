/**
 * `req.session.cookie` (src/http/cookie.ts): express-session's Cookie class. Here: what
 * `originalMaxAge` holds when a millisecond passes while a lifetime is set.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { Cookie } from '../../src/http/cookie.js'

/** Date.now() one millisecond later at every call, as on a busy machine. */
function tickingClock(t: TestContext): void {
  let now = Date.UTC(2026, 0, 1)
  t.mock.method(Date, 'now', () => now++)
}

describe('Cookie', () => {
  it('keeps the configured maxAge as originalMaxAge exactly, however late the clock reads', (t) => {
    tickingClock(t)
    const cookie = new Cookie({ maxAge: 60_000 })
    assert.equal(cookie.originalMaxAge, 60_000)
    assert.ok(cookie.maxAge! <= 60_000 && cookie.maxAge! > 59_000, 'maxAge counts down from it')
  })

  it('sets originalMaxAge to exactly the maxAge assigned', (t) => {
    tickingClock(t)
    const cookie = new Cookie()
    cookie.maxAge = 5_000
    assert.equal(cookie.originalMaxAge, 5_000)
    cookie.maxAge = null
    assert.equal(cookie.originalMaxAge, null)
    assert.equal(cookie.expires, null)
  })

  it('takes originalMaxAge from an expiry set after maxAge, as express-session does', (t) => {
    tickingClock(t)
    const expires = new Date(Date.now() + 10_000)
    const cookie = new Cookie({ maxAge: 60_000, expires })
    assert.equal(cookie.expires, expires)
    assert.ok(cookie.originalMaxAge! < 10_000 && cookie.originalMaxAge! > 9_000)
  })

  it('keeps an originalMaxAge given after maxAge (a stored cookie read back)', () => {
    const cookie = new Cookie({ maxAge: 60_000, originalMaxAge: 90_000 })
    assert.equal(cookie.originalMaxAge, 90_000)
  })
})
