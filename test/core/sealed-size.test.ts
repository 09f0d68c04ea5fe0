/**
 * The size guard of sealed mode (src/core/sealed/commit.ts): a sealed session whose cookie
 * (name=value) would pass 4,096 bytes is refused at commit with TETHER_COOKIE_TOO_LARGE and a
 * `session.too_large` event, and nothing changes; and the budget docs/sealed.md states is the one
 * measured here, to the byte.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RequestContext } from '../../src/core/manager-types.js'
import { TetherError } from '../../src/errors.js'
import { sealedSetup, type SealedSetup } from '../helpers/sealed.js'

const BROWSER: RequestContext = { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' }
const USER_ID = '123e4567-e89b-12d3-a456-426614174000'

/** Data whose JSON is exactly `bytes` long. */
function dataOf(bytes: number): Record<string, unknown> {
  return { k: 'x'.repeat(bytes - '{"k":""}'.length) }
}

async function commitWith(
  s: SealedSetup,
  bytes: number,
  opts: { userId?: string; cookieName?: string } = {},
) {
  let session = s.manager.create(BROWSER)
  if (opts.userId !== undefined) session = await s.manager.login(session, {}, opts.userId, BROWSER)
  const input = { data: dataOf(bytes), ...(opts.cookieName === undefined ? {} : opts) }
  return { session, outcome: s.manager.commit(session, BROWSER, input) }
}

describe('sealed size guard', () => {
  it('refuses a session over 4,096 bytes of cookie at commit, with the size and what fits, and an event', async () => {
    const s = sealedSetup()
    const { session, outcome } = await commitWith(s, 3000, { cookieName: 'sid' })
    const err = await outcome.then(
      () => assert.fail('accepted'),
      (e: unknown) => e as TetherError,
    )
    assert.equal(err.code, 'TETHER_COOKIE_TOO_LARGE')
    assert.equal(err.status, 500)
    const bytes = Number(/a (\d+)-byte cookie/.exec(err.message)![1])
    assert.ok(bytes > 4096)
    assert.equal(
      err.message,
      `the sealed session would make a ${bytes}-byte cookie (name=value), over the 4096 bytes a ` +
        'browser keeps, so none was sent; its data is 3000 bytes of JSON and at most 2922 fit ' +
        "beside this session's own fields. Keep large values elsewhere (a database, with their " +
        'key in the session), or use a session store',
    )
    assert.equal(session.isNew, true, 'the session is left as it was')
    const events = s.events.filter((e) => e.type === 'session.too_large')
    assert.deepEqual(
      events.map((e) => [e.reason, e.ref]),
      [[`${bytes} bytes`, session.ref]],
    )
    assert.ok(!JSON.stringify(s.events).includes(session.id), 'never the id')
  })

  it('refuses a grown session on a later commit and leaves its last token valid', async () => {
    const s = sealedSetup()
    const { session, outcome } = await commitWith(s, 100)
    assert.equal(await outcome, 'created')
    const token = s.manager.token(session)
    const input = { data: dataOf(3500) }
    await assert.rejects(s.manager.commit(session, BROWSER, input), {
      code: 'TETHER_COOKIE_TOO_LARGE',
    })
    assert.equal(s.manager.token(session), token, 'the token of the last good commit')
    assert.equal(JSON.stringify(session.record.data), JSON.stringify(dataOf(100)))
  })

  // The budget docs/sealed.md states ("The size budget"): bytes of JSON session data that fit.
  const budget: Array<[string, string, string | undefined, number]> = [
    ['an anonymous session', 'sid', undefined, 2922],
    ['an anonymous session', '__Host-sid', undefined, 2916],
    ['a session logged in with a 36-character user id', 'sid', USER_ID, 2811],
    ['a session logged in with a 36-character user id', '__Host-sid', USER_ID, 2805],
  ]
  for (const [what, cookieName, userId, fits] of budget) {
    it(`fits ${fits} bytes of data in ${what} under the cookie name ${cookieName}, and refuses one more`, async () => {
      const s = sealedSetup()
      const opts = { cookieName, ...(userId === undefined ? {} : { userId }) }
      const ok = await commitWith(s, fits, opts)
      assert.notEqual(await ok.outcome, 'none')
      const token = s.manager.token(ok.session)
      assert.ok(cookieName.length + 1 + token.length <= 4096)
      const over = await commitWith(s, fits + 1, opts)
      await assert.rejects(over.outcome, {
        code: 'TETHER_COOKIE_TOO_LARGE',
        message: new RegExp(`its data is ${fits + 1} bytes of JSON and at most ${fits} fit`),
      })
    })
  }

  it('never lets a token over the length cap load, even one this manager just sealed', async () => {
    const s = sealedSetup()
    // login() takes data up to maxSessionBytes; token() seals it without the cookie's size check.
    const session = await s.manager.login(s.manager.create(BROWSER), dataOf(6000), USER_ID, BROWSER)
    const token = s.manager.token(session)
    assert.ok(token.length > 4096)
    const loaded = await s.manager.load({ ...BROWSER, token })
    assert.equal(loaded.rejected, 'malformed')
  })

  it('gives a header token the whole 4,096 bytes', async () => {
    const s = sealedSetup()
    const ok = await commitWith(s, 2924, { cookieName: '' })
    assert.equal(await ok.outcome, 'created')
    assert.ok(s.manager.token(ok.session).length <= 4096)
  })
})
