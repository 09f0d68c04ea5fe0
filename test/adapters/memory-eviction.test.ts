/**
 * The bounded MemoryStore under a flood of cookie-less requests (issue 10 item 9): each one stores
 * a new anonymous session, and none of them may evict a logged-in user.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import express from 'express'
import session from '../../src/adapters/express/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

describe('MemoryStore bound over HTTP', () => {
  it('keeps a logged-in user through more cookie-less requests than the store holds', async (t) => {
    const store = new MemoryStore({ maxEntries: 50 })
    t.after(() => store.close())
    const app = express()
    app.use(session({ secret: newSecret(), store }))
    app.post('/login', async (req, res) => {
      await req.session.login('alice')
      res.end()
    })
    app.get('/visit', (req, res) => {
      // A route that writes to an anonymous session: every cookie-less request stores one.
      ;(req.session as unknown as { seen: boolean }).seen = true
      res.json({ loggedIn: req.session.authAge !== null })
    })
    const srv = await listen(app)
    t.after(() => srv.close())
    const alice = cookiePair(await send(srv.port, { method: 'POST', path: '/login' }), 'sid')!
    for (let i = 0; i < 200; i++) {
      const res = await send(srv.port, { path: '/visit' })
      assert.equal(res.setCookies.length, 1, 'each visitor got a stored session')
    }
    assert.equal(store.size, 50)
    const res = await send(srv.port, { path: '/visit', headers: { cookie: alice } })
    assert.deepEqual(JSON.parse(res.body), { loggedIn: true }, 'still logged in')
  })
})
