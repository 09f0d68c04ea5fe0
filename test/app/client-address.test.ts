/**
 * The reference app on a dual-stack listener (`::`, what `app.listen(port)` binds): an IPv4 client
 * is counted and logged by its IPv4 address, never as `::ffff:a.b.c.d` (docs/security.md
 * "Client addresses").
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createApp } from '../../app/app.js'
import type { AppConfig } from '../../app/config.js'
import { Client, tempDir, testConfig } from './harness.js'

/** The app on `::`, port 0, with the log lines it writes. */
async function serveDualStack(t: TestContext, over: Partial<AppConfig> = {}) {
  const lines: string[] = []
  const logStream = { write: (line: string) => void lines.push(line) }
  const running = await createApp(testConfig('memory', tempDir(t), over), { logStream })
  const server = running.app.listen(0, '::')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await running.close()
  })
  const { port } = server.address() as AddressInfo
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  return { url: `http://127.0.0.1:${port}`, logged }
}

function login(client: Client, password: string, headers: Record<string, string> = {}) {
  return client.send('POST', '/login', { json: { username: 'alice', password }, headers })
}

describe('reference app client addresses', () => {
  it('logs an IPv4 client of a dual-stack listener by its IPv4 address', async (t) => {
    const app = await serveDualStack(t)
    const client = new Client(app.url)
    for (let i = 0; i < 5; i++) assert.equal((await login(client, 'guess')).status, 401)
    assert.equal((await login(client, 'guess')).status, 429)
    const blocked = app.logged().find((l) => l['event'] === 'ratelimit.blocked')
    assert.equal(blocked?.['ip'], '127.0.0.1')
    assert.ok(
      app.logged().every((l) => typeof l['ip'] !== 'string' || !l['ip'].startsWith('::ffff:')),
      'no line carries a mapped address',
    )
  })

  it('counts failed logins of one IPv4 client together, whether a proxy writes it mapped or not', async (t) => {
    const app = await serveDualStack(t, { trustProxy: 'loopback' })
    const client = new Client(app.url)
    const mapped = { 'x-forwarded-for': '::ffff:203.0.113.7' }
    for (let i = 0; i < 5; i++) assert.equal((await login(client, 'guess', mapped)).status, 401)
    const plain = { 'x-forwarded-for': '203.0.113.7' }
    const res = await login(client, 'correct-horse', plain)
    assert.equal(res.status, 429, 'the same client, the same count')
    const other = await login(new Client(app.url), 'correct-horse', {
      'x-forwarded-for': '203.0.113.8',
    })
    assert.equal(other.status, 200, 'a neighbour is not blocked')
  })

  it('with TRUST_PROXY=1 counts the address the proxy saw; with true, the one the client wrote', async (t) => {
    // The client writes a new left-most X-Forwarded-For each time; the one proxy in front of the
    // app appends the address it saw (198.51.100.1), as nginx's $proxy_add_x_forwarded_for does.
    const guesses = async (trustProxy: AppConfig['trustProxy']) => {
      const app = await serveDualStack(t, { trustProxy })
      const client = new Client(app.url)
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) {
        const xff = { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.1` }
        statuses.push((await login(client, 'guess', xff)).status)
      }
      return statuses
    }
    assert.deepEqual(await guesses(1), [401, 401, 401, 401, 401, 429])
    assert.deepEqual(await guesses(true), [401, 401, 401, 401, 401, 401], 'the documented risk')
  })
})
