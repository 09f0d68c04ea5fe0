/** Random bytes drawn from a refilled pool (src/codec/random-pool.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomPool } from '../../src/codec/random-pool.js'

describe('randomPool', () => {
  it('never hands out the same draw twice, across many refills', () => {
    const pool = randomPool(12)
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) seen.add(pool.bytes().toString('hex'))
    assert.equal(seen.size, 10_000)
  })

  it('gives each draw a buffer of its own, of the size asked, that later draws leave alone', () => {
    const pool = randomPool(16)
    const first = pool.bytes()
    const copy = Buffer.from(first)
    assert.equal(first.length, 16)
    for (let i = 0; i < 200; i++) pool.bytes()
    assert.ok(
      first.equals(copy),
      'a drawn buffer does not change when the pool is zeroed or refilled',
    )
  })

  it('spreads its bits: each of the 256 byte values shows up among the first bytes of draws', () => {
    const pool = randomPool(32)
    const first = new Set<number>()
    for (let i = 0; i < 8000; i++) first.add(pool.bytes()[0]!)
    assert.equal(first.size, 256)
  })

  it('gives base64url of the same size', () => {
    const pool = randomPool(32)
    const text = pool.base64url()
    assert.match(text, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(text, 'base64url').length, 32)
  })
})
