import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TetherError, refusal } from '../src/errors.js'

describe('refusal()', () => {
  it('is a TetherError with code, status and Retry-After, and no stack frames', () => {
    const err = refusal('TETHER_RATE_LIMITED', 'slow down', { retryAfter: 30 })
    assert.ok(err instanceof TetherError)
    assert.equal(err.code, 'TETHER_RATE_LIMITED')
    assert.equal(err.status, 429)
    assert.deepEqual(err.headers, { 'Retry-After': '30' })
    assert.equal(err.stack, 'TetherError: slow down', 'a client-caused refusal captures no stack')
  })

  it('leaves stack traces of every other error as they were', () => {
    const before = Error.stackTraceLimit
    refusal('TETHER_CSRF_REJECTED', 'cross-site')
    assert.equal(Error.stackTraceLimit, before)
    const err = new TetherError('TETHER_STORE_UNAVAILABLE', 'down')
    assert.match(err.stack ?? '', /\n\s+at /, 'an outage keeps its stack')
  })
})
