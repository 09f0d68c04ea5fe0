/**
 * The reference app's own error handler, when the session commit fails after a route answered:
 * the error goes out well-formed, with nothing of the route's body left (no stale ETag).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore, type SessionStore } from 'tether-session'
import { manualClock } from '../helpers/clock.js'
import { sendInRow } from '../helpers/keep-alive.js'
import { Client, serve, tempDir, testConfig } from './harness.js'

/** A MemoryStore whose `touch` fails while `down` is set (the lazy touch of a GET). */
function touchFailing(inner: MemoryStore): SessionStore & { down: boolean } {
  return {
    tetherStore: 1,
    down: false,
    get: (key) => inner.get(key),
    create: (key, record, options) => inner.create(key, record, options),
    update: (key, patch, options) => inner.update(key, patch, options),
    async touch(key, times) {
      if (this.down) throw new Error('store is down (test)')
      return inner.touch(key, times)
    },
    destroy: (key) => inner.destroy(key),
    listByUser: (userId) => inner.listByUser(userId),
    destroyByUser: (userId, options) => inner.destroyByUser(userId, options),
    close: () => inner.close(),
  }
}

describe('reference app error responses', () => {
  it('answers a store outage at commit with a well-formed 503 and no stale ETag', async (t) => {
    const clock = manualClock(Date.now())
    const memory = new MemoryStore({ clock })
    t.after(() => memory.close())
    const store = touchFailing(memory)
    const app = await serve(t, testConfig('memory', tempDir(t)), { store, clock })
    const client = new Client(app.url)
    assert.equal((await client.login('alice', 'correct-horse')).status, 200)
    const profile = await client.get('/profile', { accept: 'application/json' })
    const routeEtag = profile.headers.get('etag')
    assert.ok(routeEtag, 'the route answers with an ETag')

    // Past touchAfter: the next GET touches the store after the route has answered.
    clock.advance(2 * 60_000)
    store.down = true
    const headers = { cookie: client.cookieHeader!, accept: 'application/json' }
    const port = Number(new URL(app.url).port)
    const answers = await sendInRow(port, [
      { path: '/profile', headers },
      { path: '/profile', headers },
    ])
    assert.equal(answers[1]!.reusedSocket, true, 'the second request went out on the same socket')
    for (const res of answers) {
      assert.equal(res.status, 503)
      assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body))
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'TETHER_STORE_UNAVAILABLE')
      assert.notEqual(res.headers['etag'], routeEtag, 'no ETag of the profile it did not send')
      assert.equal(res.headers['cache-control'], 'no-store')
    }
  })
})
