/**
 * Scenario servers of `npm run bench` (bench/server/), started the way the harness starts them
 * (a child process, pinned where taskset exists): the routes behave as the load expects (login,
 * `/me` increments, `/whoami` reads), and the counters the harness reads over IPC move. With the
 * harness's private Redis: commands and round trips are counted. No load runs here.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { startServer } from '../../bench/lib/children.js'
import { cookieHeader, get } from '../../bench/lib/probe.js'
import { startRedis } from '../../bench/lib/redis.js'
import { commandDelta, sum } from '../../bench/lib/stats.js'
import { hasRedisServer } from '../helpers/redis-server.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'

const USER = { id: 'u1', name: 'Alice Example', role: 'member' }

function environment(t: TestContext, redisUrl = 'redis://127.0.0.1:1'): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-test-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return {
    BENCH_REDIS_URL: redisUrl,
    BENCH_DATABASE_URL: 'postgres://127.0.0.1:1/none',
    BENCH_PREFIX: `bench_test_${randomBytes(3).toString('hex')}_`,
    BENCH_SECRET: randomBytes(32).toString('base64url'),
    BENCH_SQLITE_DIR: dir,
  }
}

async function start(t: TestContext, scenario: string, env: Record<string, string>) {
  const server = await startServer({ scenario, env })
  t.after(() => server.stop())
  return server
}

async function json(port: number, path: string, headers: Record<string, string>) {
  const answer = await get(port, path, headers)
  assert.equal(answer.status, 200, `${path}: ${answer.body}`)
  return JSON.parse(answer.body) as Record<string, unknown>
}

const noRedis = hasRedisServer()
  ? false
  : REQUIRE_SERVICES
    ? false // startRedis then fails the test, as TETHER_REQUIRE_SERVICES=1 wants
    : 'redis-server is not installed'

describe('bench scenario servers', () => {
  for (const scenario of ['tether-memory', 'express-session-memory', 'tether-sqlite']) {
    it(`${scenario}: logs in, increments on /me, reads on /whoami`, async (t) => {
      const server = await start(t, scenario, environment(t))
      const login = await get(server.port, '/login', {})
      assert.equal(login.status, 200)
      const cookie = cookieHeader(login)
      assert.notEqual(cookie, '')
      const before = await server.mark()
      assert.deepEqual(await json(server.port, '/me', { cookie }), { n: 1 })
      assert.deepEqual(await json(server.port, '/me', { cookie }), { n: 2 })
      assert.deepEqual(await json(server.port, '/whoami', { cookie }), { user: USER })
      assert.deepEqual(await json(server.port, '/whoami', {}), { user: null })
      const after = await server.mark()
      assert.equal(after.requests - before.requests, 4)
      assert.ok(after.cpu.user + after.cpu.system > before.cpu.user + before.cpu.system)
      assert.ok(after.hrUs > before.hrUs)
    })
  }

  it('tether-bearer: hands out a header token and takes it back as Authorization', async (t) => {
    const server = await start(t, 'tether-bearer', environment(t))
    const login = await get(server.port, '/login', { 'x-session-transport': 'bearer' })
    const token = login.headers['x-session-token']
    assert.equal(typeof token, 'string')
    assert.equal(login.headers['set-cookie'], undefined)
    const authorization = `Bearer ${token as string}`
    assert.deepEqual(await json(server.port, '/me', { authorization }), { n: 1 })
    assert.deepEqual(await json(server.port, '/whoami', { authorization }), { user: USER })
  })

  it('express-floor: answers every route without a session', async (t) => {
    const server = await start(t, 'express-floor', environment(t))
    for (const path of ['/login', '/me', '/whoami']) {
      assert.deepEqual(await json(server.port, path, {}), { user: null })
    }
  })

  it(
    'tether-redis: Redis commands and round trips are counted on the private server',
    { skip: noRedis },
    async (t) => {
      const redis = await startRedis()
      let server
      try {
        server = await startServer({ scenario: 'tether-redis', env: environment(t, redis.url) })
      } catch (err) {
        await redis.stop()
        throw err
      }
      // The server first: its client would wait for a Redis that has gone.
      t.after(() => server.stop().finally(() => redis.stop()))
      const cookie = cookieHeader(await get(server.port, '/login', {}))
      const stats = await redis.commandStats()
      const before = await server.mark()
      assert.deepEqual(await json(server.port, '/whoami', { cookie }), { user: USER })
      const after = await server.mark()
      const commands = commandDelta(stats, await redis.commandStats())
      assert.ok(sum(commands) >= 1, JSON.stringify(commands))
      assert.ok(after.redisBatches - before.redisBatches >= 1)
      assert.equal(commands['info'], undefined)
    },
  )
})
