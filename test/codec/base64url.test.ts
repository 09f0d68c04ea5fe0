/** The one-spelling check of unpadded base64url (src/codec/base64url.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isCanonicalBase64url } from '../../src/codec/base64url.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** What the check replaces: decode, encode again, compare. */
function reencodes(text: string): boolean {
  return Buffer.from(text, 'base64url').toString('base64url') === text
}

describe('isCanonicalBase64url', () => {
  it('accepts what Buffer encodes, at every length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        assert.equal(isCanonicalBase64url(Buffer.from(bytes).toString('base64url')), true)
      }),
    )
  })

  it('answers as decoding and encoding again would, for any alphabet string', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 70 }),
        (chars) => {
          const text = chars.join('')
          assert.equal(isCanonicalBase64url(text), reencodes(text), text)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('refuses every last character with a spare bit set, and any length of 4n+1', () => {
    for (const [prefix, spareMask] of [
      ['AA', 0b1111],
      ['AAA', 0b11],
    ] as const) {
      for (let i = 0; i < 64; i++) {
        const text = prefix.slice(0, -1) + ALPHABET[i]!
        assert.equal(isCanonicalBase64url(text), (i & spareMask) === 0, text)
      }
    }
    assert.equal(isCanonicalBase64url('A'), false)
    assert.equal(isCanonicalBase64url('AAAAA'), false)
    assert.equal(isCanonicalBase64url(''), true)
  })
})
