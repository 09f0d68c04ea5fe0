import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSessionManager } from '../../src/core/manager.js'
import { createCsrfTokens } from '../../src/csrf/token.js'
import { newSecret } from '../helpers/secrets.js'

function tokensFor(secret: string | string[] = newSecret(), admin = newSecret()) {
  const manager = createSessionManager({ secret, classes: { admin: { secret: admin } } })
  return createCsrfTokens(manager.options)
}

const ID = 'x'.repeat(43)

describe('createCsrfTokens: session tokens', () => {
  it('verifies its own token and no other session, class or secret', () => {
    const secret = newSecret()
    const tokens = tokensFor(secret)
    const token = tokens.sessionToken(ID, 'default')
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(tokens.verifySessionToken(token, ID, 'default'), true)
    assert.equal(tokens.verifySessionToken(token, 'y'.repeat(43), 'default'), false)
    assert.equal(tokens.verifySessionToken(token, ID, 'admin'), false)
    assert.equal(tokensFor().verifySessionToken(token, ID, 'default'), false)
    assert.equal(tokens.verifySessionToken(tokens.sessionToken(ID, 'admin'), ID, 'default'), false)
  })

  it('keeps tokens valid across a secret rotation, and kills them with the removed secret', () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()]
    const token = tokensFor(oldSecret).sessionToken(ID, 'default')
    const rotated = tokensFor([newOne, oldSecret])
    assert.equal(rotated.verifySessionToken(token, ID, 'default'), true)
    assert.notEqual(rotated.sessionToken(ID, 'default'), token, 'new tokens use the new secret')
    assert.equal(tokensFor([newOne]).verifySessionToken(token, ID, 'default'), false)
  })

  it('is not the cookie MAC: the key is derived for its own purpose', () => {
    const tokens = tokensFor()
    assert.notEqual(tokens.sessionToken(ID, 'default'), tokens.preSessionToken('a'.repeat(22)))
  })

  it('rejects malformed tokens', () => {
    const tokens = tokensFor()
    const good = tokens.sessionToken(ID, 'default')
    const bad = [
      '',
      good.slice(0, -1),
      good + 'A',
      good.slice(0, -1) + '=',
      good.slice(0, 10) + '\u00e9' + good.slice(11),
      ' ' + good.slice(1),
      good.toUpperCase() === good ? good.toLowerCase() : good.toUpperCase(),
      'p.' + good,
    ]
    for (const token of bad) assert.equal(tokens.verifySessionToken(token, ID, 'default'), false)
    assert.equal(tokens.verifySessionToken(undefined as unknown as string, ID, 'default'), false)
  })

  it('never verifies a random token', () => {
    const tokens = tokensFor()
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        (t, id) => {
          return (
            !tokens.verifySessionToken(t, id, 'default') &&
            !tokens.verifySessionToken(t, id, 'admin')
          )
        },
      ),
    )
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        (t) => !tokens.verifySessionToken(t, ID, 'default'),
      ),
    )
  })

  it('rejects any one changed character', () => {
    const tokens = tokensFor()
    const good = tokens.sessionToken(ID, 'default')
    fc.assert(
      fc.property(
        fc.nat({ max: good.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        (i, ch) => {
          const changed = good.slice(0, i) + ch + good.slice(i + 1)
          return changed === good || !tokens.verifySessionToken(changed, ID, 'default')
        },
      ),
    )
  })
})

describe('createCsrfTokens: pre-session tokens', () => {
  it('verifies only with the nonce it was made for', () => {
    const tokens = tokensFor()
    const nonce = tokens.newNonce()
    const other = tokens.newNonce()
    assert.match(nonce, /^[A-Za-z0-9_-]{22}$/)
    const token = tokens.preSessionToken(nonce)
    assert.match(token, /^p\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
    assert.equal(tokens.verifyPreSessionToken(token, nonce), true)
    assert.equal(tokens.verifyPreSessionToken(token, other), false)
    assert.equal(tokens.verifyPreSessionToken(token, undefined), false)
    assert.equal(tokensFor().verifyPreSessionToken(token, nonce), false, 'another secret')
  })

  it('rejects a token whose nonce part was swapped for the cookie one (the MAC binds it)', () => {
    const tokens = tokensFor()
    const [victim, attacker] = [tokens.newNonce(), tokens.newNonce()]
    const forged = `p.${victim}.${tokens.preSessionToken(attacker).slice(-43)}`
    assert.equal(tokens.verifyPreSessionToken(forged, victim), false)
  })

  it('never verifies a random token, and rejects any one changed character', () => {
    const tokens = tokensFor()
    const nonce = tokens.newNonce()
    const good = tokens.preSessionToken(nonce)
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (t) => !tokens.verifyPreSessionToken(t, nonce)),
    )
    fc.assert(
      fc.property(
        fc.nat({ max: good.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        (i, ch) => {
          const changed = good.slice(0, i) + ch + good.slice(i + 1)
          return changed === good || !tokens.verifyPreSessionToken(changed, nonce)
        },
      ),
    )
  })
})
