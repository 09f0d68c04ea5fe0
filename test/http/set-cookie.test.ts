/**
 * Set-Cookie lines (src/http/set-cookie.ts): the kept head and tail of a line must give exactly
 * what the `cookie` package's serialize() gives, for any name, value and attributes, in any order
 * of calls (so no kept part leaks from one attribute set to another).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { serialize, type SerializeOptions } from 'cookie'
import fc from 'fast-check'
import { cookieLine } from '../../src/http/set-cookie.js'

const nameChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'.split(''),
)
const names = fc.oneof(
  fc.constantFrom('sid', '__Host-sid', 'session'),
  fc.string({ unit: nameChar, minLength: 1, maxLength: 12 }),
)
const tokenChar = fc.constantFrom(...'abcXYZ0189._~-'.split(''))
const values = fc.oneof(
  fc.string({ unit: tokenChar, maxLength: 400 }),
  fc.constant(''),
  // Not plain: percent-encoded by serialize, which this must still match.
  fc.string({ maxLength: 20 }),
)
const dates = fc.oneof(
  fc.constant(new Date(0)),
  fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms)),
)
const attributes: fc.Arbitrary<SerializeOptions> = fc.record(
  {
    domain: fc.constantFrom('example.com', 'a.example.org', '.example.com'),
    path: fc.constantFrom('/', '/admin', '/a/b'),
    httpOnly: fc.boolean(),
    secure: fc.boolean(),
    partitioned: fc.boolean(),
    priority: fc.constantFrom('low' as const, 'medium' as const, 'high' as const),
    sameSite: fc.constantFrom(true, false, 'lax' as const, 'strict' as const, 'none' as const),
    expires: dates,
  },
  { requiredKeys: [] },
)

describe('Set-Cookie lines', () => {
  it('are exactly what serialize() writes, across interleaved names, values and attributes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(names, values, attributes), { minLength: 1, maxLength: 8 }),
        (calls) => {
          for (const [name, value, opts] of calls) {
            // Twice: the second call reads the kept parts.
            for (let i = 0; i < 2; i++) {
              assert.equal(
                cookieLine(name, value, { ...opts }),
                serialize(name, value, { ...opts }),
              )
            }
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('writes each second its own Expires, however the calls alternate', () => {
    const opts = { path: '/', httpOnly: true, sameSite: 'lax' as const }
    const at = [1_000, 1_999, 2_000, 1_500, 86_400_000 * 365, 0, 999]
    for (const ms of at) {
      const expires = new Date(ms)
      assert.equal(
        cookieLine('sid', 't1.x', { ...opts, expires }),
        serialize('sid', 't1.x', { ...opts, expires }),
      )
    }
  })

  it('hands maxAge and a custom encode to serialize()', () => {
    const upper = (v: string) => v.toUpperCase()
    assert.equal(cookieLine('sid', 'abc', { encode: upper, path: '/' }), 'sid=ABC; Path=/')
    assert.equal(cookieLine('sid', 'abc', { maxAge: 60, path: '/' }), 'sid=abc; Max-Age=60; Path=/')
  })

  it('refuses what serialize() refuses: a bad name, domain, path or expiry', () => {
    const bad: Array<[string, SerializeOptions]> = [
      ['bad name', {}],
      ['sid', { domain: 'exa mple.com' }],
      ['sid', { path: '/a;b' }],
      ['sid', { expires: new Date(NaN) }],
    ]
    for (const [name, opts] of bad) {
      assert.throws(() => serialize(name, 'v', opts), TypeError)
      assert.throws(() => cookieLine(name, 'v', opts), TypeError, `${name} ${JSON.stringify(opts)}`)
    }
  })
})
