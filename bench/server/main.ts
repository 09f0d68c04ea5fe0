/**
 * One scenario server, run by the harness as a child process pinned to CPU 0:
 *
 *   node --import tsx bench/server/main.ts <scenario>      (BENCH_* in the environment)
 *
 * It listens on 127.0.0.1 and tells the harness its port over IPC. On `mark` it answers with its
 * CPU time, request count, SQL statement count and RSS, so the harness measures a window from
 * inside the server without a request of its own; on `stop` it closes and exits (which writes the
 * profile under `--cpu-prof`).
 */
import { randomBytes } from 'node:crypto'
import { scenarioByName } from '../lib/scenarios.js'
import type { Mark, ServerMessage } from '../lib/protocol.js'
import * as floors from './floors.js'
import * as peers from './peers.js'
import * as tether from './tether.js'
import type { Listening } from './listen.js'
import { portOf } from './listen.js'
import {
  openRedis,
  readEnv,
  redisCounter,
  sqlCounter,
  tetherStore,
  type ServerEnv,
} from './stores.js'

const ADAPTERS: Record<string, (options: tether.TetherOptions) => Promise<Listening>> = {
  express: tether.tetherExpress,
  fastify: tether.tetherFastify,
  hono: tether.tetherHono,
  koa: tether.tetherKoa,
  node: tether.tetherNode,
  fetch: tether.tetherFetch,
}

/** The frameworks without sessions, by scenario name. */
const FLOORS: Record<string, () => Promise<Listening>> = {
  'express-floor': floors.expressFloor,
  'fastify-floor': floors.fastifyFloor,
  'hono-floor': floors.honoFloor,
  'koa-floor': floors.koaFloor,
  'node-floor': floors.nodeFloor,
  'fetch-floor': floors.fetchFloor,
}

/** Options each special Tether scenario adds (on Express). */
const TETHER_EXTRA: Record<string, tether.TetherOptions> = {
  'tether-bearer': { bearer: true },
  'tether-forged-nothrottle': { throttle: false },
  'tether-expired': { absoluteTimeout: '1s' },
}

async function build(
  name: string,
  env: ServerEnv,
): Promise<{ app: Listening; close: () => Promise<void> }> {
  const scenario = scenarioByName(name)
  if (scenario === undefined) throw new Error(`unknown scenario ${JSON.stringify(name)}`)
  const none = async () => {}
  const secret = env.secret
  const floor = FLOORS[name]
  if (floor !== undefined) return { app: await floor(), close: none }
  switch (name) {
    case 'express-redis-floor': {
      const client = await openRedis(env.redisUrl)
      const app = await floors.expressRedisFloor(client, env.prefix)
      return { app, close: async () => void (await client.quit()) }
    }
    case 'express-session-memory':
      return { app: await peers.expressSessionMemory(secret), close: none }
    case 'express-session-redis': {
      const client = await openRedis(env.redisUrl)
      const app = await peers.expressSessionRedis(secret, client, env.prefix)
      return { app, close: async () => void (await client.quit()) }
    }
    case 'iron-session':
      return { app: await peers.ironSession(secret), close: none }
    case 'fastify-session':
      return { app: await peers.fastifySession(secret), close: none }
    case 'fastify-secure-session':
      return { app: await peers.fastifySecureSession(randomBytes(32)), close: none }
  }
  // Tether: tether-<store>, tether-<adapter>-<store>, or a special scenario on Express.
  const parts = name.split('-')
  const adapter = parts.length === 3 && parts[1]! in ADAPTERS ? parts[1]! : 'express'
  const opened = await tetherStore(scenario.store, env)
  const app = await ADAPTERS[adapter]!({
    secret,
    store: opened.store,
    ...TETHER_EXTRA[name],
  })
  return { app, close: () => opened.close() }
}

function mark(requests: number): Mark {
  return {
    cpu: process.cpuUsage(),
    requests,
    sql: sqlCounter.statements,
    redisBatches: redisCounter.batches,
    rss: process.memoryUsage.rss(),
    hrUs: Number(process.hrtime.bigint() / 1000n),
  }
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? ''
  const env = readEnv()
  const { app, close } = await build(name, env)
  let requests = 0
  app.server.prependListener('request', function count() {
    requests++
  })
  // The harness may be gone already (Ctrl-C): then there is no one to tell.
  const send = (message: ServerMessage) => void (process.connected && process.send!(message))
  process.on('message', function onMessage(message: { type: string }) {
    if (message.type === 'mark') send({ type: 'mark', mark: mark(requests) })
    if (message.type === 'stop') {
      void app
        .close()
        .then(close)
        .finally(() => process.exit(0))
    }
  })
  // The harness going away ends this server too.
  process.on('disconnect', () => process.exit(0))
  send({ type: 'ready', port: portOf(app.server) })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
