import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createKeyring } from '../../src/codec/keyring.js'
import { generateSessionId } from '../../src/codec/ids.js'
import { MAX_TOKEN_LENGTH, checkCustomId, signToken, verifyToken } from '../../src/codec/token.js'
import { newSecret } from '../helpers/secrets.js'

const NOW = Date.UTC(2026, 0, 1)
const HOUR = 3_600_000
const ring = createKeyring(newSecret())
const keys = ring.byKid
const lifetime = () => 8 * HOUR

function verify(value: string, now = NOW) {
  return verifyToken(value, keys, now, lifetime)
}

describe('signToken / verifyToken', () => {
  it('round-trips a generated id and its creation time', () => {
    const id = generateSessionId()
    const result = verify(signToken(ring.signing, id, NOW - 1000))
    assert.ok(result.ok)
    assert.equal(result.id, id)
    assert.equal(result.createdAt, NOW - 1000)
    assert.equal(result.key.kid, ring.signing.kid)
  })

  it('round-trips any custom id that passes checkCustomId (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.integer({ min: 0, max: 7 * HOUR }),
        (id, age) => {
          fc.pre(checkCustomId(id) === null)
          const result = verify(signToken(ring.signing, id, NOW - age))
          return result.ok && result.id === id && result.createdAt === NOW - age
        },
      ),
    )
  })

  it('rejects any single changed character (property)', () => {
    const token = signToken(ring.signing, generateSessionId(), NOW)
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        (i, ch) => {
          const changed = token.slice(0, i) + ch + token.slice(i + 1)
          return changed === token || !verify(changed).ok
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never throws and never accepts random strings (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 300 })),
        (s) => {
          const result = verify(s)
          return result.ok === false
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('never accepts random strings shaped like tokens (property)', () => {
    const b64 = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
      minLength: 1,
      maxLength: 50,
    })
    fc.assert(
      fc.property(b64, b64, (id, mac) => {
        const forged = `t1.${ring.signing.kid}.${NOW.toString(36)}.${id}.${mac.padEnd(43, 'A').slice(0, 43)}`
        return !verify(forged).ok
      }),
    )
  })

  const good = signToken(ring.signing, generateSessionId(), NOW)
  const [v, kid, created, id, mac] = good.split('.') as [string, string, string, string, string]
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
  const table: [string, string, string][] = [
    ['empty', '', 'malformed'],
    ['truncated', good.slice(0, -5), 'malformed'],
    ['mac removed', good.slice(0, good.lastIndexOf('.')), 'malformed'],
    ['extra separator', `${v}.${kid}.${created}..${id}.${mac}`, 'malformed'],
    ['wrong version', `t2.${kid}.${created}.${id}.${mac}`, 'malformed'],
    ['unknown kid', `${v}.zzzzzz.${created}.${id}.${mac}`, 'unknown_key'],
    ['flipped MAC byte', `${v}.${kid}.${created}.${id}.${flip(mac, 10)}`, 'forged'],
    ['flipped id byte', `${v}.${kid}.${created}.${flip(id, 3)}.${mac}`, 'forged'],
    ['changed creation time', `${v}.${kid}.${(NOW - 1).toString(36)}.${id}.${mac}`, 'forged'],
    ['oversized', good + 'A'.repeat(MAX_TOKEN_LENGTH), 'malformed'],
    ['10 KB', 'x'.repeat(10_000), 'malformed'],
    ['non-ASCII', good.slice(0, 20) + 'é' + good.slice(21), 'malformed'],
    ['bad base64 in MAC', `${v}.${kid}.${created}.${id}.${mac.slice(0, 42)}=`, 'malformed'],
    ['creation time not base36', `${v}.${kid}.-1.${id}.${mac}`, 'malformed'],
    ['express-session cookie', 's:abc.def', 'malformed'],
    ['bad custom-id encoding', `${v}.${kid}.${created}.~!!.${mac}`, 'malformed'],
  ]
  for (const [name, value, reason] of table) {
    it(`rejects ${name} as ${reason}`, () => {
      assert.deepEqual(verify(value), { ok: false, reason })
    })
  }

  it('rejects the other spellings of the right MAC bytes as forged', () => {
    // 43 characters carry 258 bits for 256: the last one's two low bits are spare, and setting
    // either decodes to the same, correct MAC. Exactly one spelling of a token is accepted.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(mac.at(-1)!)
    assert.equal(last & 0b11, 0)
    for (const spare of [1, 2, 3]) {
      const other = mac.slice(0, -1) + alphabet[last | spare]!
      assert.ok(Buffer.from(other, 'base64url').equals(Buffer.from(mac, 'base64url')))
      assert.deepEqual(verify(`${v}.${kid}.${created}.${id}.${other}`), {
        ok: false,
        reason: 'forged',
      })
    }
    assert.ok(verify(good).ok)
  })

  it('rejects a creation time more than a minute in the future as malformed', () => {
    const token = signToken(ring.signing, generateSessionId(), NOW + 5 * 60_000)
    assert.deepEqual(verify(token), { ok: false, reason: 'malformed' })
    assert.ok(
      verify(signToken(ring.signing, generateSessionId(), NOW + 30_000)).ok,
      'small skew is tolerated',
    )
  })

  it('rejects a token past its absolute lifetime, counted from the signed creation time', () => {
    const token = signToken(ring.signing, generateSessionId(), NOW - 8 * HOUR)
    assert.deepEqual(verify(token), { ok: false, reason: 'expired_absolute' })
    assert.ok(verify(token, NOW - 1).ok)
  })

  it('rejects a token signed with a key the keyring does not hold', () => {
    const other = createKeyring([{ kid: ring.signing.kid, secret: newSecret() }])
    const token = signToken(other.signing, generateSessionId(), NOW)
    assert.deepEqual(verify(token), { ok: false, reason: 'forged' })
  })
})

describe('checkCustomId', () => {
  it('accepts short strings and refuses empty, long, non-string and ill-formed ids', () => {
    assert.equal(checkCustomId('apple'), null)
    assert.equal(checkCustomId('%/ü'), null)
    assert.match(String(checkCustomId('')), /non-empty/)
    assert.match(String(checkCustomId('x'.repeat(200))), /at most/)
    assert.match(String(checkCustomId(42)), /string/)
    assert.match(String(checkCustomId('a\uD800b')), /surrogate/)
  })
})
