/** Session ids and their store references (src/codec/ids.ts). */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateSessionId, isSessionRef, sessionRef } from '../../src/codec/ids.js'

describe('generateSessionId', () => {
  it('gives 256-bit base64url ids, all different, across many refills of its entropy pool', () => {
    const ids = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const id = generateSessionId()
      assert.match(id, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(Buffer.from(id, 'base64url').length, 32)
      ids.add(id)
    }
    assert.equal(ids.size, 1000)
  })

  it('spreads its bits: every base64url character shows up in the first position of 4,000 ids', () => {
    const first = new Set<string>()
    for (let i = 0; i < 4000; i++) first.add(generateSessionId()[0]!)
    assert.equal(first.size, 64)
  })
})

describe('sessionRef', () => {
  it('is a truncated SHA-256 of a label and the id, unchanged from earlier versions (stored keys)', () => {
    assert.equal(sessionRef('fixed-id-for-the-known-answer'), 'h0JCkt1Sbtq0HKyEzymPJy')
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (id) => {
        const expected = createHash('sha256')
          .update('tether-session/v1/ref\0')
          .update(id)
          .digest('base64url')
          .slice(0, 22)
        assert.equal(sessionRef(id), expected)
        assert.ok(isSessionRef(sessionRef(id)))
      }),
    )
  })
})
