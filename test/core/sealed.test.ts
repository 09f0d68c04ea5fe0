/**
 * The sealed session manager (`store: 'sealed'`, src/core/sealed/): the session lives in its
 * token, so timeouts, lazy re-sealing, key rotation, login and step-up are checked here with an
 * injected clock and no session store. Revocation is in sealed-revocation.test.ts, the size guard
 * in sealed-size.test.ts, the HTTP behaviour on every adapter in test/adapters/sealed.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createKeyring, type KeyEntry } from '../../src/codec/keyring.js'
import { openSeal, seal } from '../../src/codec/seal.js'
import { createSessionManager } from '../../src/core/manager.js'
import { encodePayload } from '../../src/core/sealed/payload.js'
import { MemoryStore } from '../../src/stores/memory.js'
import {
  loadedData,
  newSecret,
  sealedLogin,
  sealedSession,
  sealedSetup,
} from '../helpers/sealed.js'
import { countKeyLookups } from '../helpers/counting-keys.js'
import { tamper } from '../helpers/tamper.js'

const MIN = 60_000
const HOUR = 60 * MIN

describe('sealed manager: tokens', () => {
  it('keeps the whole session in an s1 token and reads it back with no session store', async () => {
    const s = sealedSetup()
    const { token } = await sealedSession(s, { cart: [1, 2], name: 'Zoë' })
    assert.match(token, /^s1\./)
    // The sealed bytes hold no plaintext (a regex over the base64url text would match random
    // ciphertext now and then: "Zo" is two characters).
    const sealed = Buffer.from(token.split('.').at(-1)!, 'base64url')
    for (const plain of ['cart', 'Zoë', '[1,2]']) {
      assert.equal(sealed.includes(Buffer.from(plain)), false, `the data is encrypted: ${plain}`)
    }
    assert.doesNotMatch(token, /cart/)
    assert.deepEqual(await loadedData(s.manager, token), { cart: [1, 2], name: 'Zoë' })
    assert.deepEqual(
      s.marks.writes,
      [],
      'nothing is written anywhere for a session being created or read',
    )
    assert.equal(s.marks.size, 0)
  })

  it('sends no token for a new session until something is written', async () => {
    const s = sealedSetup()
    const session = s.manager.create(s.ctx())
    assert.equal(await s.manager.commit(session, s.ctx(), { data: {} }), 'none')
    assert.equal(session.isNew, true)
    assert.equal(await s.manager.commit(session, s.ctx(), { data: {}, saveNew: true }), 'created')
    assert.equal(session.needsCookie, true)
  })

  it('rejects forged, malformed, foreign and unknown-key tokens with the stored-mode events, reading no mark', async () => {
    const s = sealedSetup()
    const { token } = await sealedSession(s)
    const stored = createSessionManager({ secret: s.secret, clock: s.clock })
    const storedSession = stored.create({})
    await stored.commit(storedSession, {}, { data: { n: 1 } })
    const otherApp = sealedSetup()
    const foreign = (await sealedSession(otherApp)).token
    const sameKidOtherSecret = createKeyring([{ kid: token.split('.')[1]!, secret: newSecret() }])
    const cases: Array<[string, string]> = [
      [tamper(token), 'token.forged'],
      [token.slice(0, 20), 'token.malformed'],
      [token.slice(0, 80), 'token.forged'],
      [stored.token(storedSession), 'token.malformed'],
      [foreign, 'token.unknown_key'],
      [seal(sameKidOtherSecret.signing, '{"i":"x"}'), 'token.forged'],
      [token + 'x'.repeat(5000), 'token.malformed'],
    ]
    for (const [bad, type] of cases) {
      s.events.length = 0
      const outcome = await s.manager.load(s.ctx(bad))
      assert.equal(outcome.session, null)
      assert.deepEqual(
        s.events.map((e) => e.type),
        [type],
        bad.slice(0, 20),
      )
    }
    assert.equal(s.marks.reads, 0, 'a bad token costs no revocation-store read')
    // And a sealed token means nothing to a stored-mode manager with the same secret:
    assert.equal((await stored.load({ token })).rejected, 'malformed')
  })

  it('throttles an address that sends too many invalid tokens, as in stored mode', async () => {
    const s = sealedSetup({ throttle: { limit: 2, window: '1m' } })
    const { token } = await sealedSession(s)
    const bad = tamper(token)
    const outcomes = []
    for (let i = 0; i < 3; i++) outcomes.push(await s.manager.load(s.ctx(bad)))
    const retryAfter = outcomes.map((o) => (o.session === null ? o.retryAfterS : undefined))
    assert.deepEqual(retryAfter.slice(0, 2), [undefined, undefined])
    assert.ok((retryAfter[2] ?? 0) > 0)
    assert.ok(s.events.some((e) => e.type === 'ratelimit.blocked' && e.reason === 'forged'))
  })

  it('refuses a token sealed with one class key that claims another class', async () => {
    const s = sealedSetup({ classes: { admin: { secret: newSecret(), idleTimeout: '10m' } } })
    const { session } = await sealedLogin(s.manager, 'alice')
    const defaultKey = [...s.manager.options.keys.values()].find(
      (k) => k.sessionClass === 'default',
    )!
    const claimsAdmin = { ...session.record, sessionClass: 'admin' }
    const forged = seal(defaultKey, encodePayload(session.id, session.ref, claimsAdmin, undefined))
    assert.equal((await s.manager.load(s.ctx(forged))).rejected, 'forged')
  })

  it('opens a token it sealed or opened lately without decrypting it, and checks it as any other', async () => {
    const s = sealedSetup({ idleTimeout: '10m', binding: 'revoke' })
    const decryptions = countKeyLookups(s.manager.options.keys as Map<string, KeyEntry>)
    const { token } = await sealedLogin(s.manager, 'alice')
    const loaded = (await s.manager.load(s.ctx(token))).session!
    await s.manager.commit(loaded, s.ctx(), { data: { n: 2 } })
    const next = s.manager.token(loaded)
    assert.deepEqual(await loadedData(s.manager, next), { n: 2 })
    assert.deepEqual(await loadedData(s.manager, next), { n: 2 })
    assert.equal(decryptions(), 0, 'both tokens were sealed here')
    // Opened by another process once, then kept there too.
    const other = s.other()
    assert.deepEqual(await loadedData(other, next), { n: 2 })
    assert.deepEqual(await loadedData(other, next), { n: 2 })
    // Every check still runs on a kept token: the idle timeout, and the binding, whose policy
    // here revokes the session, after which the token is refused as revoked.
    s.clock.advance(10 * MIN + MIN + 1)
    assert.equal((await s.manager.load(s.ctx(next))).rejected, 'expired_idle')
    s.clock.advance(-(10 * MIN + MIN + 1))
    const elsewhere = { ...s.ctx(next), userAgent: 'another-agent', ip: '198.51.100.7' }
    assert.equal((await s.manager.load(elsewhere)).rejected, 'binding')
    assert.equal((await s.manager.load(s.ctx(next))).rejected, 'revoked', 'revoked for it')
    assert.equal(decryptions(), 0)
  })
})

describe('sealed manager: timeouts from the sealed times', () => {
  it('ends a session idle past idleTimeout (+ touchAfter) and keeps one refreshed in time', async () => {
    const s = sealedSetup({ idleTimeout: '10m' })
    const { token } = await sealedSession(s)
    s.clock.advance(9 * MIN)
    const loaded = await s.manager.load(s.ctx(token))
    assert.ok(loaded.session)
    assert.equal(await s.manager.commit(loaded.session, s.ctx(), { data: { n: 1 } }), 'touched')
    const refreshed = s.manager.token(loaded.session)
    assert.notEqual(refreshed, token)
    s.clock.advance(2 * MIN + 1)
    // 11 min after the first seal: past 10 min + touchAfter (1 min).
    assert.equal((await s.manager.load(s.ctx(token))).rejected, 'expired_idle')
    assert.ok(s.events.some((e) => e.type === 'session.expired_idle' && e.ref !== undefined))
    assert.deepEqual(await loadedData(s.manager, refreshed), { n: 1 })
    s.clock.advance(9 * MIN)
    assert.equal((await s.manager.load(s.ctx(refreshed))).rejected, 'expired_idle')
  })

  it('ends an active session at absoluteTimeout however often it is re-sealed', async () => {
    const s = sealedSetup({ idleTimeout: '30m', absoluteTimeout: '1h' })
    let { token } = await sealedSession(s)
    for (let i = 0; i < 2; i++) {
      s.clock.advance(25 * MIN)
      const { session } = await s.manager.load(s.ctx(token))
      assert.ok(session, `round ${i}`)
      assert.equal(await s.manager.commit(session, s.ctx(), { data: { n: 1 } }), 'touched')
      token = s.manager.token(session)
    }
    s.clock.advance(10 * MIN)
    assert.equal((await s.manager.load(s.ctx(token))).rejected, 'expired_absolute')
    assert.ok(s.events.some((e) => e.type === 'session.expired_absolute'))
  })

  it('re-seals an unchanged session only once touchAfter has passed (the lazy touch)', async () => {
    const s = sealedSetup({ idleTimeout: '30m', touchAfter: '1m' })
    const { session: first, token } = await sealedSession(s)
    const createdSeen = first.record.lastSeenAt
    s.clock.advance(59_000)
    const early = (await s.manager.load(s.ctx(token))).session!
    assert.equal(await s.manager.commit(early, s.ctx(), { data: { n: 1 } }), 'none')
    assert.equal(early.needsCookie, false, 'no new token inside touchAfter')
    s.clock.advance(1000)
    const due = (await s.manager.load(s.ctx(token))).session!
    assert.equal(await s.manager.commit(due, s.ctx(), { data: { n: 1 } }), 'touched')
    assert.equal(due.needsCookie, true)
    const next = await s.manager.load(s.ctx(s.manager.token(due)))
    assert.equal(next.session!.record.lastSeenAt, createdSeen + 60_000)
  })

  it('ends an idle session within idleTimeout + 10 % of its last request, never before idleTimeout (property)', async () => {
    const IDLE = 10 * MIN
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 12 * MIN }), { minLength: 1, maxLength: 12 }),
        async (gaps) => {
          const s = sealedSetup({ idleTimeout: IDLE, absoluteTimeout: '1d' })
          let { token } = await sealedSession(s)
          for (const gap of gaps) {
            s.clock.advance(gap)
            const { session } = await s.manager.load(s.ctx(token))
            if (gap < IDLE && session === null) return false
            if (gap >= IDLE * 1.1 && session !== null) return false
            if (session === null) return true
            await s.manager.commit(session, s.ctx(), { data: { n: 1 } })
            // The client keeps the newest token it is sent.
            if (session.needsCookie) token = s.manager.token(session)
          }
          return true
        },
      ),
      { numRuns: 200 },
    )
  })

  it('honours a shorter cookie expiry on the server too', async () => {
    const s = sealedSetup({ idleTimeout: '30m' })
    const session = s.manager.create(s.ctx())
    const cookieExpiresAt = s.clock.now() + 5 * MIN
    await s.manager.commit(session, s.ctx(), { data: { n: 1 }, cookieExpiresAt })
    s.clock.advance(5 * MIN)
    assert.equal((await s.manager.load(s.ctx(s.manager.token(session)))).rejected, 'expired_idle')
  })
})

describe('sealed manager: keys', () => {
  it('re-seals with the newest key a token an older key opened, and the old key can then go', async () => {
    const clock = sealedSetup().clock
    const [oldSecret, newSecret_] = [newSecret(), newSecret()]
    const base = { store: 'sealed' as const, clock }
    const before = createSessionManager({ ...base, secret: oldSecret })
    const session = before.create({})
    await before.commit(session, {}, { data: { n: 1 } })
    const oldToken = before.token(session)
    const rotating = createSessionManager({ ...base, secret: [newSecret_, oldSecret] })
    const loaded = (await rotating.load({ token: oldToken })).session!
    assert.equal(loaded.needsCookie, true, 'opened with an older key: a new token is due')
    assert.equal(await rotating.commit(loaded, {}, { data: { n: 1 } }), 'none')
    const newToken = rotating.token(loaded)
    const newKid = createKeyring(newSecret_).signing.kid
    assert.equal(newToken.split('.')[1], newKid)
    const after = createSessionManager({ ...base, secret: newSecret_ })
    assert.deepEqual(await loadedData(after, newToken), { n: 1 })
    assert.equal((await after.load({ token: oldToken })).rejected, 'unknown_key')
    assert.ok(openSeal(newToken, after.options.keys).ok)
  })

  it('seals with a key derived for sealing, apart from the MAC key of the same secret', async () => {
    const s = sealedSetup()
    const { token } = await sealedSession(s)
    const key = [...s.manager.options.keys.values()][0]!
    assert.notDeepEqual(key.sealKey.export(), key.macKey.export())
    const wrongPurpose = new Map([[key.kid, { ...key, sealKey: key.macKey }]])
    assert.equal(openSeal(token, wrongPurpose).ok, false)
  })
})

describe('sealed manager: login, step-up, logout', () => {
  it('gives a login a new id and authAt, keeps the data, and ends the pre-login token', async () => {
    const s = sealedSetup()
    const { session: anon, token: before } = await sealedSession(s, { cart: 1 })
    s.clock.advance(5000)
    const loaded = (await s.manager.load(s.ctx(before))).session!
    const login = await s.manager.login(loaded, { cart: 1 }, 'alice', s.ctx())
    assert.notEqual(login.id, anon.id)
    assert.notEqual(login.ref, anon.ref)
    assert.equal(login.record.authAt, s.clock.now())
    assert.equal(login.record.createdAt, s.clock.now())
    assert.equal(login.needsCookie, true)
    await s.manager.commit(login, s.ctx(), { data: { cart: 1 } })
    const after = s.manager.token(login)
    const back = (await s.manager.load(s.ctx(after))).session!
    assert.equal(back.record.userId, 'alice')
    assert.equal(s.manager.authAge(back), 0)
    assert.deepEqual({ ...back.record.data }, { cart: 1 })
    assert.equal((await s.manager.load(s.ctx(before))).rejected, 'revoked')
    assert.ok(
      s.events.some(
        (e) => e.type === 'session.unknown' && e.reason === 'revoked' && e.ref === anon.ref,
      ),
    )
  })

  it('ends the session at logout, so a copied token of it stops working too', async () => {
    const s = sealedSetup()
    const { token } = await sealedLogin(s.manager, 'alice')
    const copy = token
    const loaded = (await s.manager.load(s.ctx(token))).session!
    const fresh = await s.manager.logout(loaded, s.ctx())
    assert.equal(fresh.isNew, true)
    assert.equal((await s.manager.load(s.ctx(copy))).rejected, 'revoked')
    const ended = s.marks.writes.find((w) => w.scope === `session:${loaded.ref}`)!
    assert.equal(ended.expiresAt, loaded.record.absoluteExpiresAt, 'kept until its natural end')
    assert.ok(s.events.some((e) => e.type === 'session.destroyed' && e.userId === 'alice'))
  })

  it('gives reauthenticated() a new id and authAt, keeps creation time and CSRF anchor, and ends the old token', async () => {
    const s = sealedSetup()
    const { session, token } = await sealedLogin(s.manager, 'alice')
    s.clock.advance(10 * MIN)
    const loaded = (await s.manager.load(s.ctx(token))).session!
    const anchor = s.manager.csrfAnchor(loaded)
    const next = await s.manager.reauthenticate(loaded, s.ctx())
    assert.notEqual(next.id, session.id)
    assert.equal(next.record.createdAt, session.record.createdAt)
    assert.equal(next.record.authAt, s.clock.now())
    assert.equal(s.manager.csrfAnchor(next), anchor)
    await s.manager.commit(next, s.ctx(), { data: {} })
    const renewed = s.manager.token(next)
    assert.equal(s.manager.csrfAnchor((await s.manager.load(s.ctx(renewed))).session!), anchor)
    assert.equal((await s.manager.load(s.ctx(token))).rejected, 'revoked')
  })

  it('binds a login to its context: revoke, step-up, or log once and carry the new context', async () => {
    const thief = { ip: '198.51.100.1', userAgent: 'curl/8' }
    const revoking = sealedSetup({ binding: 'revoke' })
    const a = await sealedLogin(revoking.manager, 'alice')
    assert.equal((await revoking.manager.load({ ...thief, token: a.token })).rejected, 'binding')
    assert.equal((await revoking.manager.load(revoking.ctx(a.token))).rejected, 'revoked')

    const stepUp = sealedSetup({ binding: 'step-up' })
    const b = await sealedLogin(stepUp.manager, 'alice')
    const stale = (await stepUp.manager.load({ ...thief, token: b.token })).session!
    assert.equal(stepUp.manager.authAge(stale), null)

    const logging = sealedSetup({ binding: 'log' })
    const c = await sealedLogin(logging.manager, 'alice')
    const moved = (await logging.manager.load({ ...thief, token: c.token })).session!
    await logging.manager.commit(moved, thief, { data: {} })
    const carried = logging.manager.token(moved)
    await logging.manager.load({ ...thief, token: carried })
    const mismatches = logging.events.filter((e) => e.type === 'session.binding_mismatch')
    assert.equal(mismatches.length, 1, 'once per change of context')
    assert.equal(mismatches[0]!.reason, 'ua+ip')
  })

  it('seals a digest of the user agent, so the size does not depend on the browser', async () => {
    const s = sealedSetup()
    const short = await sealedLogin(s.manager, 'alice', { userAgent: 'a' })
    const long = await sealedLogin(s.manager, 'alice', { userAgent: 'M'.repeat(400) })
    assert.equal(long.token.length, short.token.length)
    // Past the length of the digests kept: digested each time, and the same digest.
    const huge = { userAgent: 'M'.repeat(5000) }
    const longest = await sealedLogin(s.manager, 'alice', huge)
    assert.equal(longest.token.length, short.token.length)
    for (let i = 0; i < 2; i++) {
      const loaded = await s.manager.load({ ...huge, token: longest.token })
      assert.notEqual(loaded.session, null, 'the same user agent is the same context')
    }
    const other = await s.manager.load({
      ...huge,
      userAgent: 'N'.repeat(5000),
      token: longest.token,
    })
    assert.ok(
      s.events.some((e) => e.type === 'session.binding_mismatch'),
      String(other.rejected),
    )
  })

  it('reload() returns the session as last sealed, and null once it was ended', async () => {
    const s = sealedSetup()
    const { token } = await sealedSession(s, { n: 1 })
    const loaded = (await s.manager.load(s.ctx(token))).session!
    // A loaded record may be shared with the next request sending this token: it is frozen.
    assert.throws(() => {
      ;(loaded.record.data as { n: number }).n = 99
    }, TypeError)
    const reloaded = await s.manager.reload(loaded, s.ctx())
    assert.deepEqual({ ...reloaded!.record.data }, { n: 1 })
    await s.manager.revokeSession(loaded.ref)
    assert.equal(await s.manager.reload(loaded, s.ctx()), null)
    assert.equal(await s.manager.reload(s.manager.create(s.ctx()), s.ctx()), null)
  })

  it('never puts a token or a session id in an event', async () => {
    const s = sealedSetup({ idleTimeout: '10m' })
    const { session, token } = await sealedSession(s)
    const loaded = (await s.manager.load(s.ctx(token))).session!
    const login = await s.manager.login(loaded, {}, 'alice', s.ctx())
    await s.manager.commit(login, s.ctx(), { data: {} })
    const loginToken = s.manager.token(login)
    await s.manager.load(s.ctx(tamper(loginToken)))
    await s.manager.load(s.ctx(token))
    s.clock.advance(HOUR)
    await s.manager.load(s.ctx(loginToken))
    const text = JSON.stringify(s.events)
    assert.ok(s.events.length >= 5)
    for (const secret of [token, loginToken, session.id, login.id])
      assert.ok(!text.includes(secret))
  })
})

describe('sealed manager: what needs a record per session', () => {
  it('refuses update(fn) with TETHER_NOT_SUPPORTED, saying why and what to do instead', async () => {
    const s = sealedSetup()
    const { session } = await sealedSession(s)
    await assert.rejects(
      s.manager.update(session, () => {}, s.ctx()),
      {
        name: 'TetherError',
        code: 'TETHER_NOT_SUPPORTED',
        message:
          "session.update(fn) is an atomic read-modify-write on the server, and store: 'sealed' " +
          'keeps the session in its cookie: two requests at once each seal their own copy and ' +
          'the last response wins. Assign to the session instead (the last write wins), or use ' +
          'a session store (SqliteStore, RedisStore, PostgresStore) for atomic updates',
      },
    )
  })

  it('refuses listUserSessions with TETHER_NOT_SUPPORTED', async () => {
    const s = sealedSetup()
    await assert.rejects(s.manager.listUserSessions('alice'), {
      code: 'TETHER_NOT_SUPPORTED',
      message: /^listUserSessions\(\) needs a record of each live session, and store: 'sealed'/,
    })
  })

  it('refuses renewAfter and maxSessionsPerUser at construction, saying why', () => {
    const base = { secret: newSecret(), store: 'sealed' as const }
    assert.throws(() => createSessionManager({ ...base, renewAfter: '15m' }), {
      code: 'TETHER_INVALID_OPTION',
      option: 'renewAfter',
      message: /^"renewAfter" cannot work with store: 'sealed': renewal detects a copied token/,
    })
    assert.equal(createSessionManager({ ...base, renewAfter: false }).options.renewAfterMs, null)
    assert.equal(createSessionManager(base).options.renewAfterMs, null, 'off by default')
    assert.throws(() => createSessionManager({ ...base, maxSessionsPerUser: 3 }), {
      code: 'TETHER_INVALID_OPTION',
      option: 'maxSessionsPerUser',
    })
  })

  it('refuses a revocationStore without marks, and one given without sealed mode', () => {
    assert.throws(
      () =>
        createSessionManager({
          secret: newSecret(),
          store: 'sealed',
          revocationStore: { tetherStore: 1 } as never,
        }),
      { code: 'TETHER_INVALID_OPTION', option: 'revocationStore' },
    )
    assert.throws(
      () => createSessionManager({ secret: newSecret(), revocationStore: new MemoryStore() }),
      {
        code: 'TETHER_INVALID_OPTION',
        message: /^"revocationStore" is for store: 'sealed' only/,
      },
    )
  })
})
