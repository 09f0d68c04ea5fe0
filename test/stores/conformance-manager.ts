/**
 * Conformance through the session manager: what applications do with a store (update(fn) from
 * many requests at once, concurrent logins under a cap), run unchanged on every store.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { createSessionManager } from '../../src/core/manager.js'
import type { MakeFixture } from './fixtures.js'

export function describeThroughManager(fixture: MakeFixture): void {
  it('loses no increment when 200 requests run update(fn) on one session at once', async function counter(t) {
    const { store, clock } = await fixture(t)
    const manager = createSessionManager({ secret: randomBytes(32), store, clock })
    const session = manager.create({})
    await manager.commit(session, {}, { data: { count: 0 } })
    await Promise.all(
      Array.from({ length: 200 }, () =>
        manager.update(
          session,
          function increment(data) {
            data['count'] = (data['count'] as number) + 1
          },
          {},
        ),
      ),
    )
    assert.equal((await store.get(session.ref))?.data['count'], 200)
  })

  it('leaves exactly the cap listed after 50 simultaneous logins of one user', async function logins(t) {
    const { store, clock, user } = await fixture(t)
    const manager = createSessionManager({
      secret: randomBytes(32),
      store,
      clock,
      maxSessionsPerUser: 5,
    })
    const userId = user('many')
    const sessions = await Promise.all(
      Array.from({ length: 50 }, () => manager.login(manager.create({}), {}, userId, {})),
    )
    const listed = await manager.listUserSessions(userId)
    assert.equal(listed.length, 5)
    const live = await Promise.all(sessions.map((s) => manager.load({ token: manager.token(s) })))
    const liveRefs = live.flatMap((o) => (o.session ? [o.session.ref] : []))
    assert.deepEqual(
      liveRefs.sort(),
      listed.map((l) => l.ref).sort(),
      'the listing is exactly the live sessions',
    )
  })
}
