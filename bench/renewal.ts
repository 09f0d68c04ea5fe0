// What renewal costs, on the Redis at REDIS_URL (127.0.0.1 only), in this process, in one run:
// the time of loading a session on an ordinary request, on the request that renews it, and on a
// request that still carries the old id (grace window), as ratios to connect-redis's get of one
// session (what express-session does on every request), measured in the same run.
//
//   npm run bench:renewal            (N=2000 sessions per case by default; N=… to change)
import { randomBytes } from 'node:crypto'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { createSessionManager } from 'tether-session'
import { RedisStore } from 'tether-session/stores/redis'

const N = Number(process.env['N'] ?? 2000)
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const MIN = 60_000

/** Mean ms per call of `fn` over `inputs`, one at a time (latency, not throughput). */
async function timeEach<T>(inputs: T[], fn: (input: T) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  for (const input of inputs) await fn(input)
  return Number(process.hrtime.bigint() - start) / 1e6 / inputs.length
}

const client = createClient({ url: REDIS_URL })
await client.connect()
const prefix = `tether-bench:${randomBytes(4).toString('hex')}:`
try {
  // The peer: connect-redis's get of a stored express-session session.
  const peer = new ConnectRedisStore({ client, prefix: `${prefix}peer:` })
  const sids = Array.from({ length: N }, (_, i) => `sid-${i}`)
  for (const sid of sids) {
    await peer.set(sid, { cookie: { originalMaxAge: 3_600_000 }, userId: 'u' } as never)
  }
  const peerGet = (sid: string) => peer.get(sid)
  await timeEach(sids, peerGet) // warm-up, as for Tether below
  const peerMs = await timeEach(sids, peerGet)

  const clock = { t: Date.now(), now: () => clock.t }
  const store = new RedisStore({ client, prefix: `${prefix}t:`, clock })
  const manager = createSessionManager({ secret: randomBytes(32), store, clock })
  const tokens: string[] = []
  for (let i = 0; i < N; i++) {
    const session = await manager.login(manager.create({}), { n: i }, `user-${i}`, {})
    tokens.push(manager.token(session))
  }
  const load = async (token: string) => {
    const { session } = await manager.load({ token })
    if (session === null) throw new Error('a session was lost')
    return session
  }
  await timeEach(tokens, load) // warm-up: scripts loaded, code optimised
  const ordinaryMs = await timeEach(tokens, load)
  clock.t += 16 * MIN
  const renewed: string[] = []
  const renewingMs = await timeEach(tokens, async (token) => {
    const session = await load(token)
    if (!session.needsCookie) throw new Error('not renewed')
    renewed.push(manager.token(session))
  })
  const graceMs = await timeEach(tokens, load)
  const firstUseMs = await timeEach(renewed, async (token) => {
    const session = await load(token)
    await manager.commit(session, {}, { data: session.record.data })
  })
  const rows: Array<[string, number]> = [
    ['connect-redis get (peer)', peerMs],
    ['Tether load, ordinary request', ordinaryMs],
    ['Tether load, the renewing request', renewingMs],
    ['Tether load, old id in the grace window', graceMs],
    ['Tether load + commit, first use of the new id', firstUseMs],
  ]
  console.log(`renewal cost, N=${N} sessions per case, one request at a time, Redis ${REDIS_URL}`)
  for (const [name, ms] of rows)
    console.log(
      `${name.padEnd(48)} ${(ms * 1000).toFixed(0).padStart(6)} µs  ${(ms / peerMs).toFixed(2)}x peer`,
    )
} finally {
  let cursor = '0'
  do {
    const reply = await client.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 })
    cursor = String(reply.cursor)
    if (reply.keys.length > 0) await client.del(reply.keys)
  } while (cursor !== '0')
  await client.quit()
}
