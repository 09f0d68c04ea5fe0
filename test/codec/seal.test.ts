import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createKeyring, type KeyEntry } from '../../src/codec/keyring.js'
import {
  MAX_SEALED_LENGTH,
  maxPayloadBytes,
  openSeal,
  seal,
  sealedLength,
} from '../../src/codec/seal.js'
import { signToken } from '../../src/codec/token.js'
import { newSecret } from '../helpers/secrets.js'

const ring = createKeyring([newSecret(), newSecret()])
const keys = ring.byKid
const [newest, older] = [...keys.values()] as [KeyEntry, KeyEntry]
const PAYLOAD = JSON.stringify({ i: 'abc', d: { cart: [1, 2, 3], name: 'Zoë ✓' } })

function opened(token: string, ring: ReadonlyMap<string, KeyEntry> = keys): string | null {
  const result = openSeal(token, ring)
  return result.ok ? result.payload.toString('utf8') : null
}

function reason(token: string, ring: ReadonlyMap<string, KeyEntry> = keys): string {
  const result = openSeal(token, ring)
  return result.ok ? 'ok' : result.reason
}

describe('seal / openSeal', () => {
  it('round-trips a payload and names the key that opened it', () => {
    const token = seal(newest, PAYLOAD)
    assert.match(token, new RegExp(`^s1\\.${newest.kid}\\.[A-Za-z0-9_-]+$`))
    const result = openSeal(token, keys)
    assert.ok(result.ok)
    assert.equal(result.payload.toString('utf8'), PAYLOAD)
    assert.equal(result.key, newest)
    assert.equal(opened(seal(older, PAYLOAD)), PAYLOAD, 'every configured key opens')
  })

  it('round-trips any string payload (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }), (s) => {
        return opened(seal(newest, s)) === s
      }),
      { numRuns: 500 },
    )
  })

  it('seals the same payload differently every time: no IV twice, across refills of its pool', () => {
    const ivs = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const body = Buffer.from(seal(newest, PAYLOAD).split('.')[2]!, 'base64url')
      ivs.add(body.subarray(0, 12).toString('hex'))
    }
    assert.equal(ivs.size, 1000)
  })

  it('rejects any single changed character (property)', () => {
    const token = seal(newest, PAYLOAD)
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        (i, ch) => {
          const changed = token.slice(0, i) + ch + token.slice(i + 1)
          return changed === token || opened(changed) === null
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('rejects any single flipped bit of the sealed bytes as forged (property)', () => {
    const token = seal(newest, PAYLOAD)
    const head = token.slice(0, token.lastIndexOf('.') + 1)
    const body = Buffer.from(token.slice(head.length), 'base64url')
    fc.assert(
      fc.property(fc.nat({ max: body.length * 8 - 1 }), (bit) => {
        const copy = Buffer.from(body)
        copy[bit >> 3]! ^= 1 << (bit & 7)
        return reason(head + copy.toString('base64url')) === 'forged'
      }),
      { numRuns: 2000 },
    )
  })

  it('rejects every truncation', () => {
    const token = seal(newest, PAYLOAD)
    for (let n = 0; n < token.length; n++) {
      assert.equal(opened(token.slice(0, n)), null, `truncated to ${n}`)
    }
  })

  it('rejects a token over the length cap as malformed before looking at it', () => {
    const huge = seal(newest, 'x'.repeat(4000))
    assert.ok(huge.length > MAX_SEALED_LENGTH)
    assert.equal(reason(huge), 'malformed')
    assert.equal(reason(`s1.${newest.kid}.${'A'.repeat(MAX_SEALED_LENGTH)}`), 'malformed')
  })

  it('rejects another version, a signed t1 token, and malformed shapes', () => {
    const token = seal(newest, PAYLOAD)
    const table: Array<[string, string]> = [
      ['', 'malformed'],
      ['s1', 'malformed'],
      ['s1.', 'malformed'],
      [`s1.${newest.kid}`, 'malformed'],
      [`s1.${newest.kid}.`, 'malformed'],
      [`s1..${token.split('.')[2]}`, 'malformed'],
      ['s2' + token.slice(2), 'malformed'],
      ['S1' + token.slice(2), 'malformed'],
      [token.replace('s1.', 't1.'), 'malformed'],
      [token + '.', 'malformed'],
      [token + '=', 'malformed'],
      [`s1.${'k'.repeat(17)}.${token.split('.')[2]}`, 'malformed'],
      [`s1.${newest.kid}.${token.split('.')[2]!.slice(0, 30)}`, 'malformed'],
      [signToken(newest, randomBytes(32).toString('base64url'), Date.now()), 'malformed'],
      [token.replace(/.$/, 'é'), 'malformed'],
    ]
    for (const [value, expected] of table) assert.equal(reason(value), expected, value)
  })

  it('rejects a non-canonical base64url spelling of the same bytes', () => {
    // Find a token whose last character carries spare bits, and set one of them.
    for (let i = 0; i < 50; i++) {
      const token = seal(newest, PAYLOAD + 'x'.repeat(i))
      const body = token.split('.')[2]!
      if (body.length % 4 === 0) continue
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = alphabet.indexOf(body.at(-1)!)
      const spelling = token.slice(0, -1) + alphabet[last | 1]!
      if (spelling === token) continue
      assert.equal(
        Buffer.from(spelling.split('.')[2]!, 'base64url').equals(Buffer.from(body, 'base64url')),
        true,
      )
      assert.equal(reason(spelling), 'malformed')
      return
    }
    assert.fail('no token with spare bits found')
  })

  it('refuses exactly the spellings that do not encode back to themselves, at every length', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 120 }),
        fc.integer({ min: 0, max: 63 }),
        fc.boolean(),
        (extra, pick, dropOne) => {
          const token = seal(newest, PAYLOAD + extra)
          // Drop a character too, so every remainder of the length mod 4 comes up, 1 included.
          const base = dropOne ? token.slice(0, -1) : token
          const spelling = base.slice(0, -1) + alphabet[pick]!
          const blob = spelling.split('.')[2]!
          const canonical = Buffer.from(blob, 'base64url').toString('base64url') === blob
          const got = reason(spelling)
          if (!canonical) assert.equal(got, 'malformed', spelling)
          else assert.ok(got === 'forged' || (got === 'ok' && spelling === token), `${got}`)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('answers unknown_key for a removed key and forged for a wrong one', () => {
    const token = seal(older, PAYLOAD)
    const withoutOlder = new Map([[newest.kid, newest]])
    assert.equal(reason(token, withoutOlder), 'unknown_key')
    // Another app's secret under the same key id:
    const other = createKeyring([{ kid: older.kid, secret: newSecret() }]).signing
    assert.equal(reason(seal(other, PAYLOAD)), 'forged')
    // Another app with a derived key id: not ours at all.
    assert.equal(reason(seal(createKeyring(newSecret()).signing, PAYLOAD)), 'unknown_key')
  })

  it('rejects a token sealed with the MAC key of the same secret (keys apart by purpose)', () => {
    const wrongPurpose: KeyEntry = { ...newest, sealKey: newest.macKey }
    assert.equal(reason(seal(wrongPurpose, PAYLOAD)), 'forged')
    const csrfPurpose: KeyEntry = { ...newest, sealKey: newest.csrfKey }
    assert.equal(reason(seal(csrfPurpose, PAYLOAD)), 'forged')
  })

  it('rejects a swapped key id even when both ids hold the same key (kid is authenticated)', () => {
    const secret = newSecret()
    const twins = createKeyring([
      { kid: 'a', secret },
      { kid: 'b', secret: newSecret() },
    ]).byKid
    const b = twins.get('b')!
    const sameKeyAsA: KeyEntry = { ...b, sealKey: twins.get('a')!.sealKey }
    const ring = new Map([
      ['a', twins.get('a')!],
      ['b', sameKeyAsA],
    ])
    const token = seal(ring.get('a')!, PAYLOAD)
    assert.equal(opened(token, ring), PAYLOAD)
    assert.equal(reason(token.replace('s1.a.', 's1.b.'), ring), 'forged')
  })

  it('rejects a body sealed without the header as additional data', () => {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', newest.sealKey, iv)
    const body = Buffer.concat([iv, cipher.update(PAYLOAD), cipher.final(), cipher.getAuthTag()])
    assert.equal(reason(`s1.${newest.kid}.${body.toString('base64url')}`), 'forged')
  })

  it('never throws and never accepts random strings (property)', () => {
    const b64 = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
      minLength: 0,
      maxLength: 200,
    })
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          b64.map((s) => `s1.${newest.kid}.${s}`),
          b64.map((s) => `s1.${s}`),
        ),
        (s) => openSeal(s, keys).ok === false,
      ),
      { numRuns: 1500 },
    )
  })

  it('predicts the token length and the largest payload that fits', () => {
    for (const n of [1, 2, 3, 100, 1000, 2999]) {
      const token = seal(newest, 'x'.repeat(n))
      assert.equal(token.length, sealedLength(newest.kid, n))
    }
    const max = maxPayloadBytes(newest.kid, MAX_SEALED_LENGTH)
    assert.ok(sealedLength(newest.kid, max) <= MAX_SEALED_LENGTH)
    assert.ok(sealedLength(newest.kid, max + 1) > MAX_SEALED_LENGTH)
    assert.equal(opened(seal(newest, 'y'.repeat(max))), 'y'.repeat(max))
  })
})
