/**
 * Redis work per request, as Redis counts it (`INFO commandstats`: every command inside a script
 * counts, and so does the EVALSHA around them), through the Express adapter on a private
 * redis-server that nothing else uses. Counts, not timings: the budget the store promises in
 * docs/stores/redis.md ("Commands per request").
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import { createClient } from 'redis'
import session, { tetherErrorHandler } from '../../src/adapters/express/index.js'
import { RedisStore } from '../../src/stores/redis.js'
import { cookiePair, listen, send } from '../helpers/http.js'
import { hasRedisServer, privateRedis } from '../helpers/redis-server.js'
import { newSecret } from '../helpers/secrets.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'
import { tamper } from '../helpers/tamper.js'

const skip = hasRedisServer() ? false : 'redis-server is not installed'
if (skip && REQUIRE_SERVICES) throw new Error(`${skip}, and TETHER_REQUIRE_SERVICES=1 requires it`)

type Counted = { n?: number; user?: string }

async function setup(t: TestContext) {
  const redis = await privateRedis()
  const client = createClient({ url: redis.url })
  client.on('error', () => {}) // the server stops at the end of the test
  await client.connect()
  t.after(async () => {
    client.destroy()
    await redis.stop()
  })
  const app = express()
  // The "not before" mark (revokeAllSessions) is read once per revocationCheckInterval, whatever
  // the traffic: an hour here, so the counts below are per request only.
  const store = new RedisStore({ client })
  app.use(session({ secret: newSecret(), store, revocationCheckInterval: '1h' }))
  app.get('/login', async (req, res) => {
    await req.session.login('u1')
    ;(req.session as unknown as Counted).user = 'Alice'
    res.json({ ok: true })
  })
  app.get('/me', (req, res) => {
    const sess = req.session as unknown as Counted
    sess.n = (sess.n ?? 0) + 1
    res.json({ n: sess.n })
  })
  app.get('/whoami', (req, res) => res.json({ user: (req.session as unknown as Counted).user }))
  app.get('/plain', (_req, res) => res.json({ ok: true }))
  app.use(tetherErrorHandler())
  const srv = await listen(app)
  t.after(() => srv.close())

  /** Commands Redis ran while `fn` did its requests. */
  async function commands(fn: () => Promise<void>): Promise<Record<string, number>> {
    await client.sendCommand(['CONFIG', 'RESETSTAT'])
    await fn()
    const info = await client.sendCommand<string>(['INFO', 'commandstats'])
    const counts: Record<string, number> = {}
    for (const match of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
      if (match[1] !== 'config|resetstat') counts[match[1]!] = Number(match[2])
    }
    return counts
  }
  const login = await send(srv.port, { path: '/login' })
  const cookie = cookiePair(login, '__Host-sid') ?? cookiePair(login, 'sid')!
  // The first request with a cookie reads the mark (and loads its script).
  await send(srv.port, { path: '/whoami', headers: { cookie } })
  return { port: srv.port, cookie, commands }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}

describe('Redis commands per request (private redis-server)', { skip }, () => {
  it('a request that changes its session: 5 commands, one HGETALL and one script', async (t) => {
    const s = await setup(t)
    const counts = await s.commands(async () => {
      for (let i = 0; i < 10; i++) {
        const res = await send(s.port, { path: '/me', headers: { cookie: s.cookie } })
        assert.equal(res.status, 200)
      }
    })
    assert.deepEqual(counts, { hgetall: 10, evalsha: 10, hmget: 10, hset: 10, pexpire: 10 })
  })

  it('a request that only reads its session: one plain HGETALL', async (t) => {
    const s = await setup(t)
    const counts = await s.commands(async () => {
      for (let i = 0; i < 10; i++) {
        const res = await send(s.port, { path: '/whoami', headers: { cookie: s.cookie } })
        assert.equal(res.body, '{"user":"Alice"}')
      }
    })
    assert.deepEqual(counts, { hgetall: 10 })
  })

  it('no cookie, or a forged one: no command at all', async (t) => {
    const s = await setup(t)
    const counts = await s.commands(async () => {
      await send(s.port, { path: '/plain' })
      await send(s.port, { path: '/whoami' })
      const forged = tamper(s.cookie)
      for (let i = 0; i < 5; i++)
        await send(s.port, { path: '/whoami', headers: { cookie: forged } })
    })
    assert.equal(total(counts), 0, JSON.stringify(counts))
  })
})
