/**
 * The token verifier that keeps verified tokens (src/codec/verified-tokens.ts): whatever it kept,
 * it must answer exactly as `verifyToken` would at that moment, for valid, tampered, truncated,
 * expired, future-dated and unknown-key tokens, in any order and at any capacity.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateSessionId, sessionRef } from '../../src/codec/ids.js'
import { createKeyring } from '../../src/codec/keyring.js'
import { signToken, verifyToken } from '../../src/codec/token.js'
import { createTokenVerifier } from '../../src/codec/verified-tokens.js'
import { countKeyLookups } from '../helpers/counting-keys.js'
import { newSecret } from '../helpers/secrets.js'
import { tamper } from '../helpers/tamper.js'
import { tokenVariants } from '../helpers/token-variants.js'

const NOW = Date.UTC(2026, 0, 1)
const HOUR = 3_600_000
const ring = createKeyring(newSecret())
const other = createKeyring(newSecret())
const lifetime = () => 8 * HOUR

/** A copy of the keyring, counting how often a verification looks a key up (once per MAC check). */
function countingKeys() {
  const keys = new Map(ring.byKid)
  return { keys, lookups: countKeyLookups(keys) }
}

function token(age = 0, key = ring.signing): string {
  return signToken(key, generateSessionId(), NOW - age)
}

describe('createTokenVerifier', () => {
  it('verifies a token once, then answers the same token from what it kept, with its ref', () => {
    const { keys, lookups } = countingKeys()
    const verify = createTokenVerifier(keys, lifetime)
    const value = token()
    const first = verify(value, NOW)
    assert.ok(first.ok)
    assert.equal(first.ref, sessionRef(first.id))
    assert.equal(lookups(), 1)
    assert.deepEqual(verify(value, NOW + 1000), first)
    assert.equal(lookups(), 1, 'no second HMAC for the same token')
  })

  it('expires a kept token at its absolute lifetime, to the millisecond, with no second HMAC', () => {
    const { keys, lookups } = countingKeys()
    const verify = createTokenVerifier(keys, lifetime)
    const value = token()
    assert.ok(verify(value, NOW).ok)
    assert.ok(verify(value, NOW + 8 * HOUR - 1).ok)
    assert.deepEqual(verify(value, NOW + 8 * HOUR), { ok: false, reason: 'expired_absolute' })
    assert.deepEqual(verify(value, NOW + 9 * HOUR), { ok: false, reason: 'expired_absolute' })
    // Its MAC is what it was: a clock set back finds it valid, as verifyToken would.
    assert.ok(verify(value, NOW).ok)
    assert.equal(lookups(), 1)
  })

  it('checks the MAC of an expired cookie sent again and again once', () => {
    const { keys, lookups } = countingKeys()
    const verify = createTokenVerifier(keys, lifetime)
    const value = token(9 * HOUR)
    for (let i = 0; i < 5; i++)
      assert.deepEqual(verify(value, NOW), { ok: false, reason: 'expired_absolute' })
    assert.equal(lookups(), 1)
    // An expired token with a wrong MAC is forged, not expired.
    const last = value.at(-2) === 'A' ? 'B' : 'A'
    const forged = value.slice(0, -2) + last + value.at(-1)
    assert.deepEqual(verify(forged, NOW), { ok: false, reason: 'forged' })
  })

  it('refuses a forged token sent again without an HMAC, and keeps at most maxForged of them', () => {
    const { keys, lookups } = countingKeys()
    const verify = createTokenVerifier(keys, lifetime, 8, 2)
    const forged = Array.from({ length: 3 }, () => tamper(token()))
    for (const f of forged) assert.deepEqual(verify(f, NOW), { ok: false, reason: 'forged' })
    assert.equal(lookups(), 3)
    for (const f of forged.slice(1))
      assert.deepEqual(verify(f, NOW), { ok: false, reason: 'forged' })
    assert.equal(lookups(), 3, 'the 2 newest are kept')
    assert.deepEqual(verify(forged[0]!, NOW), { ok: false, reason: 'forged' })
    assert.equal(lookups(), 4, 'the oldest was not')
    // A valid token is never answered from the forged ones, nor a forged one from the valid ones.
    const value = token()
    assert.ok(verify(value, NOW).ok)
    assert.deepEqual(verify(tamper(value), NOW), { ok: false, reason: 'forged' })
  })

  it('refuses a kept token as from the future when the clock goes back past the skew', () => {
    const verify = createTokenVerifier(ring.byKid, lifetime)
    const value = token()
    assert.ok(verify(value, NOW).ok)
    assert.deepEqual(
      verify(value, NOW - 60_001),
      verifyToken(value, ring.byKid, NOW - 60_001, lifetime),
    )
    assert.equal(verify(value, NOW - 60_001).ok, false)
  })

  it('keeps nothing of a token that failed, and refuses every variant of a kept one', () => {
    const verify = createTokenVerifier(ring.byKid, lifetime)
    const value = token()
    assert.ok(verify(value, NOW).ok)
    const last = value.at(-1) === 'A' ? 'B' : 'A'
    assert.deepEqual(verify(value.slice(0, -1) + last, NOW), { ok: false, reason: 'forged' })
    assert.deepEqual(verify(value.slice(0, -1), NOW), { ok: false, reason: 'malformed' })
    assert.deepEqual(verify(value + 'A', NOW), { ok: false, reason: 'malformed' })
    assert.deepEqual(verify(` ${value}`, NOW), { ok: false, reason: 'malformed' })
    const foreign = token(0, other.signing)
    assert.equal(verify(foreign, NOW).ok, false)
    assert.equal(verify(foreign, NOW).ok, false)
  })

  it('keeps at most its capacity: the oldest kept token is verified in full again', () => {
    const { keys, lookups } = countingKeys()
    const verify = createTokenVerifier(keys, lifetime, 8)
    const values = Array.from({ length: 20 }, () => token())
    for (const v of values) assert.ok(verify(v, NOW).ok)
    assert.equal(lookups(), 20)
    for (const v of values.slice(-8)) assert.ok(verify(v, NOW).ok)
    assert.equal(lookups(), 20, 'the 8 newest are kept')
    assert.ok(verify(values[0]!, NOW).ok)
    assert.equal(lookups(), 21, 'the oldest was not')
  })

  it('answers as verifyToken does, for any sequence of tokens and times (property)', () => {
    const pool = [
      ...Array.from({ length: 4 }, (_, i) => token(i * HOUR)),
      token(9 * HOUR), // already expired
      token(-2 * 60_000), // from the future
      token(0, other.signing), // another app's key
    ]
    const variants = tokenVariants(pool)
    const times = fc.integer({ min: NOW - 2 * 60_000, max: NOW + 9 * HOUR })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(variants, times), { minLength: 1, maxLength: 40 }),
        (capacity, forgedCapacity, calls) => {
          const verify = createTokenVerifier(ring.byKid, lifetime, capacity, forgedCapacity)
          for (const [value, now] of calls) {
            const got = verify(value, now)
            const want = verifyToken(value, ring.byKid, now, lifetime)
            if (want.ok) {
              assert.ok(got.ok, `${value} at ${now}`)
              assert.deepEqual(
                { id: got.id, createdAt: got.createdAt, key: got.key, ref: got.ref },
                { id: want.id, createdAt: want.createdAt, key: want.key, ref: sessionRef(want.id) },
              )
            } else {
              assert.deepEqual(got, want, `${value} at ${now}`)
            }
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
