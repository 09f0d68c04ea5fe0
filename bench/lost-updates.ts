// Lost updates: N concurrent requests each set a different key on ONE session; count how many
// keys survive. express-session + connect-redis writes the whole session object, so concurrent
// requests overwrite each other; Tether sends per-key patches merged atomically in Redis.
// Both run in this process, in the same run, against the Redis at REDIS_URL (127.0.0.1 only).
//
//   npm run bench:lost-updates            (N=200 by default; N=… to change)
import { createServer, request, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import express from 'express'
import expressSession from 'express-session'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import { createClient } from 'redis'
import tether from 'tether-session/express'
import { RedisStore } from 'tether-session/stores/redis'

const N = Number(process.env['N'] ?? 200)
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

function get(
  port: number,
  path: string,
  cookie?: string,
): Promise<{ body: string; setCookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: cookie ? { cookie } : {} },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () =>
          resolve({ body, setCookie: res.headers['set-cookie']?.[0]?.split(';')[0] }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function app(middleware: RequestListener | express.RequestHandler): express.Express {
  const a = express()
  a.use(middleware as express.RequestHandler)
  a.get('/start', (req, res) => {
    ;(req.session as unknown as Record<string, unknown>)['started'] = true
    res.end('ok')
  })
  a.get('/set/:k', (req, res) => {
    ;(req.session as unknown as Record<string, unknown>)['k' + req.params.k] = 1
    res.end('ok')
  })
  a.get('/count', (req, res) => {
    res.end(String(Object.keys(req.session).filter((k) => k.startsWith('k')).length))
  })
  return a
}

async function measure(name: string, a: express.Express): Promise<number> {
  const server = createServer(a)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  const { setCookie } = await get(port, '/start')
  await Promise.all(Array.from({ length: N }, (_, i) => get(port, `/set/${i}`, setCookie)))
  const kept = Number((await get(port, '/count', setCookie)).body)
  server.close()
  console.log(`${name.padEnd(34)} kept ${String(kept).padStart(4)} / ${N}, lost ${N - kept}`)
  return N - kept
}

async function main(): Promise<void> {
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  const prefix = `bench:${randomBytes(4).toString('hex')}:`
  const secret = randomBytes(32).toString('base64url')
  const peer = expressSession({
    secret,
    resave: false,
    saveUninitialized: false,
    store: new ConnectRedisStore({ client, prefix: prefix + 'es:' }),
  })
  const lostPeer = await measure('express-session + connect-redis', app(peer))
  const ours = tether({ secret, store: new RedisStore({ client, prefix: prefix + 'tether:' }) })
  const lostOurs = await measure('tether-session + RedisStore', app(ours))
  for await (const keys of client.scanIterator({ MATCH: prefix + '*', COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys)
  }
  await client.quit()
  console.log(
    `lost updates out of ${N} concurrent different-key writes: express-session ${lostPeer}, tether ${lostOurs}`,
  )
}

await main()
