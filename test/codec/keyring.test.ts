import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { createKeyring } from '../../src/codec/keyring.js'
import { signToken, verifyToken } from '../../src/codec/token.js'
import { newSecret } from '../helpers/secrets.js'

const NOW = Date.UTC(2026, 0, 1)
const lifetime = () => 8 * 3_600_000

describe('createKeyring', () => {
  for (const placeholder of [
    'keyboard cat',
    'your_super_secret_key_here',
    'secret',
    'changeme',
    'abc',
    'Keyboard-Cat',
  ]) {
    it(`refuses the placeholder ${JSON.stringify(placeholder)} with TETHER_WEAK_SECRET and a fix`, () => {
      assert.throws(
        () => createKeyring(placeholder),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'TETHER_WEAK_SECRET')
          assert.match(err.message, /randomBytes\(32\)/)
          // ("secret" is also the option's name, so only longer values are checked.)
          if (placeholder.length > 6)
            assert.ok(!err.message.includes(placeholder), 'the message never repeats the secret')
          return true
        },
      )
    })
  }

  it('refuses a long secret that is a placeholder in disguise', () => {
    assert.throws(() => createKeyring('please-change-me-before-deploying-to-production-ok'), {
      code: 'TETHER_WEAK_SECRET',
    })
  })

  it('refuses a secret shorter than 32 bytes and names the length', () => {
    assert.throws(() => createKeyring('x7Qp2Lm9Zr4Tb8Wc1Ny6Kd3'), {
      code: 'TETHER_WEAK_SECRET',
      message: /23 bytes; at least 32/,
    })
  })

  it('refuses a long secret made of few distinct characters', () => {
    assert.throws(() => createKeyring('ab'.repeat(32)), { code: 'TETHER_WEAK_SECRET' })
  })

  it('refuses missing, empty and non-string secrets with TETHER_INVALID_OPTION', () => {
    assert.throws(() => createKeyring(undefined), {
      code: 'TETHER_INVALID_OPTION',
      message: /"secret" is required/,
    })
    assert.throws(() => createKeyring([]), {
      code: 'TETHER_INVALID_OPTION',
      message: /secret option array/,
    })
    assert.throws(() => createKeyring([42]), { code: 'TETHER_INVALID_OPTION' })
    assert.throws(() => createKeyring([{ kid: 'bad kid!', secret: newSecret() }]), {
      code: 'TETHER_INVALID_OPTION',
      message: /kid/,
    })
  })

  it('accepts a 32-byte random Buffer and refuses a short one', () => {
    assert.ok(createKeyring(randomBytes(32)).signing)
    assert.throws(() => createKeyring(randomBytes(16)), { code: 'TETHER_WEAK_SECRET' })
  })

  it('refuses the same secret listed twice', () => {
    const s = newSecret()
    assert.throws(() => createKeyring([s, s]), { code: 'TETHER_INVALID_OPTION', message: /twice/ })
  })

  it('signs with the first secret and verifies with every listed one (rotation)', () => {
    const oldSecret = newSecret()
    const before = createKeyring(oldSecret)
    const token = signToken(before.signing, 'id-1', NOW)
    const rotated = createKeyring([newSecret(), oldSecret])
    assert.notEqual(rotated.signing.kid, before.signing.kid)
    const result = verifyToken(token, rotated.byKid, NOW, lifetime)
    assert.equal(result.ok, true)
  })

  it('derives the same key id from the same secret across restarts', () => {
    const s = newSecret()
    assert.equal(createKeyring(s).signing.kid, createKeyring(s).signing.kid)
  })

  it('uses explicit key ids when given', () => {
    const ring = createKeyring([
      { kid: 'k2026', secret: newSecret() },
      { kid: 'k2025', secret: newSecret() },
    ])
    assert.equal(ring.signing.kid, 'k2026')
    assert.deepEqual([...ring.byKid.keys()], ['k2026', 'k2025'])
  })

  it('kills every session signed by a secret once it is removed (unknown_key)', () => {
    const oldSecret = newSecret()
    const token = signToken(createKeyring(oldSecret).signing, 'id-1', NOW)
    const withoutOld = createKeyring(newSecret())
    assert.deepEqual(verifyToken(token, withoutOld.byKid, NOW, lifetime), {
      ok: false,
      reason: 'unknown_key',
    })
  })

  it('rejects a token whose key id was changed to another listed key (forged)', () => {
    const a = { kid: 'a', secret: newSecret() }
    const b = { kid: 'b', secret: newSecret() }
    const ring = createKeyring([a, b])
    const token = signToken(ring.byKid.get('a')!, 'id-1', NOW)
    const swapped = token.replace('t1.a.', 't1.b.')
    assert.deepEqual(verifyToken(swapped, ring.byKid, NOW, lifetime), {
      ok: false,
      reason: 'forged',
    })
  })
})
