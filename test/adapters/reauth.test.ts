/**
 * `req.session.reauthenticated()` over HTTP: a new cookie at re-authentication, the old one dead,
 * data, user, class and creation time kept (ASVS 7.2.4), the CSRF token still valid.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import session, { csrfToken } from '../../src/adapters/express/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { newSecret } from '../helpers/secrets.js'

type Data = { cart?: string[]; before?: number; after?: number }

async function app(t: TestContext, extra: Partial<Parameters<typeof session>[0]> = {}) {
  const mw = session({
    secret: newSecret(),
    store: new MemoryStore(),
    classes: { admin: { secret: newSecret() } },
    csrf: { token: true, preSession: false },
    ...extra,
  })
  const a = express()
  a.use(mw)
  a.post('/login', async (req, res) => {
    ;(req.session as Data).cart = ['book']
    await req.session.login('alice', { class: 'admin' })
    res.json(csrfToken(req))
  })
  a.post('/reauth', async (req, res) => {
    const before = req.sessionID
    ;(req.session as Data).before = 1
    await req.session.reauthenticated()
    ;(req.session as Data).after = 2
    res.json({ changed: req.sessionID !== before, sameAsSession: req.sessionID === req.session.id })
  })
  a.get('/me', async (req, res) => {
    const [listed] = await mw.manager.listUserSessions('alice')
    const { cart, before, after } = req.session as Data
    res.json({
      loggedIn: req.session.authAge !== null,
      authAge: req.session.authAge,
      data: { cart, before, after },
      sessionClass: listed?.sessionClass,
      createdAt: listed?.createdAt,
      listed: (await mw.manager.listUserSessions('alice')).length,
    })
  })
  const srv = await listen(a)
  t.after(() => srv.close())
  return srv
}

describe('reauthenticated() over HTTP', () => {
  it('answers with a new cookie, ends the old one and keeps data, user, class and creation time', async (t) => {
    const s = await app(t)
    const login = await send(s.port, { method: 'POST', path: '/login' })
    const old = cookiePair(login, 'sid')!
    const token = JSON.parse(login.body) as string
    const before = JSON.parse((await send(s.port, { path: '/me', headers: { cookie: old } })).body)

    const reauth = await send(s.port, {
      method: 'POST',
      path: '/reauth',
      headers: { cookie: old, 'x-csrf-token': token },
    })
    assert.equal(reauth.status, 200)
    assert.deepEqual(JSON.parse(reauth.body), { changed: true, sameAsSession: true })
    const fresh = cookiePair(reauth, 'sid')
    assert.ok(fresh !== undefined && fresh !== old, 'a new cookie')

    const dead = JSON.parse((await send(s.port, { path: '/me', headers: { cookie: old } })).body)
    assert.equal(dead.loggedIn, false, 'the old cookie no longer works')
    const now = JSON.parse((await send(s.port, { path: '/me', headers: { cookie: fresh } })).body)
    assert.equal(now.loggedIn, true, 'the new one does')
    assert.deepEqual(now.data, { cart: ['book'], before: 1, after: 2 }, 'writes around it kept')
    assert.equal(now.sessionClass, 'admin')
    assert.equal(now.createdAt, before.createdAt)
    assert.equal(now.listed, 1, 'one session listed: the new one')

    const post = await send(s.port, {
      method: 'POST',
      path: '/reauth',
      headers: { cookie: fresh, 'x-csrf-token': token },
    })
    assert.equal(post.status, 200, 'the CSRF token from before re-authentication still works')
  })

  it('takes the new id from genid', async (t) => {
    let n = 0
    const s = await app(t, { genid: () => `custom-${++n}-${'x'.repeat(40)}` })
    const login = await send(s.port, { method: 'POST', path: '/login' })
    const old = cookiePair(login, 'sid')!
    const token = JSON.parse(login.body) as string
    const reauth = await send(s.port, {
      method: 'POST',
      path: '/reauth',
      headers: { cookie: old, 'x-csrf-token': token },
    })
    assert.equal(reauth.status, 200)
    assert.equal(n, 3, 'one id for the visit, one for the login, one for re-authentication')
    const fresh = cookiePair(reauth, 'sid')!
    const me = JSON.parse((await send(s.port, { path: '/me', headers: { cookie: fresh } })).body)
    assert.equal(me.loggedIn, true)
  })
})
