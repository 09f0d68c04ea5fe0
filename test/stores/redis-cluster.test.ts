// RedisStore on a real 3-master Redis Cluster, started here on free loopback ports and stopped by
// pid afterwards: the conformance suite through node-redis's and ioredis's cluster clients, so
// every script runs on whichever node owns its key. Skips with a reason when redis-server is not
// installed; under TETHER_REQUIRE_SERVICES=1 a cluster that is installed but cannot start fails.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { RedisStore } from '../../src/stores/redis.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'
import { describeStoreConformance, makeRecord } from './conformance.js'
import { listedKeys, T0 } from './fixtures.js'

const run = promisify(execFile)

interface TestCluster {
  dir: string
  ports: number[]
  nodes: ChildProcess[]
}

/** A loopback port free now whose cluster bus port (port + 10000) is free too. */
async function freePort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0)
    if (port < 55_000 && !taken.includes(port) && (await listenOnce(port + 10_000)) > 0) return port
  }
  throw new Error('no free port pair below 55000')
}

/** Listens on `port` (0: any) and closes again; the port, or 0 if it was taken. */
function listenOnce(port: number): Promise<number> {
  return new Promise(function probe(resolve) {
    const server = createServer()
    server.once('error', function taken() {
      resolve(0)
    })
    server.listen(port, '127.0.0.1', function listening() {
      const address = server.address()
      server.close(function closed() {
        resolve(typeof address === 'object' && address !== null ? address.port : 0)
      })
    })
  })
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 })
  return stdout
}

/** Polls `check` every 100 ms, at most `tries` times. */
async function waitFor(what: string, tries: number, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (
      await check().catch(function notYet() {
        return false
      })
    )
      return
    await delay(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function startCluster(cluster: TestCluster): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const port = await freePort(cluster.ports)
    cluster.ports.push(port)
    const config = join(cluster.dir, `nodes-${port}.conf`)
    const args = [
      '--port',
      String(port),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      config,
    ]
    args.push('--dir', cluster.dir, '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1')
    cluster.nodes.push(spawn('redis-server', [...args, '--daemonize', 'no'], { stdio: 'ignore' }))
  }
  for (const port of cluster.ports) {
    await waitFor(`redis-server on ${port}`, 50, async function pong() {
      return (await cli(port, 'ping')).trim() === 'PONG'
    })
  }
  const addresses = cluster.ports.map(function address(port) {
    return `127.0.0.1:${port}`
  })
  await run(
    'redis-cli',
    ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
    { timeout: 30_000 },
  )
  for (const port of cluster.ports) {
    await waitFor(`cluster_state:ok on ${port}`, 100, async function isOk() {
      return (await cli(port, 'cluster', 'info')).includes('cluster_state:ok')
    })
  }
}

/** Stops exactly the nodes this file started (by pid) and removes their directory. */
async function stopCluster(cluster: TestCluster): Promise<void> {
  await Promise.all(
    cluster.nodes.map(async function stop(node) {
      if (node.pid === undefined || node.exitCode !== null || node.signalCode !== null) return
      const exited = new Promise(function onExit(resolve) {
        node.once('exit', resolve)
      })
      process.kill(node.pid, 'SIGTERM')
      // Unref'd: once every node has exited, nothing keeps the test process waiting.
      await Promise.race([exited, delay(5000, undefined, { ref: false })])
    }),
  )
  killLeftovers(cluster)
  rmSync(cluster.dir, { recursive: true, force: true })
}

function killLeftovers(cluster: TestCluster): void {
  for (const node of cluster.nodes) {
    if (node.pid !== undefined && node.exitCode === null && node.signalCode === null) {
      process.kill(node.pid, 'SIGKILL')
    }
  }
}

async function hasRedisServer(): Promise<boolean> {
  try {
    await run('redis-server', ['--version'], { timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/** Starts the cluster, or says why the suite skips. */
async function setUp(cluster: TestCluster): Promise<string | false> {
  if (!(await hasRedisServer())) return 'redis-server is not on PATH, so no Redis Cluster can start'
  try {
    await startCluster(cluster)
    return false
  } catch (err) {
    // Stopped here, not only in after(): a throw at module load may end the process before it.
    await stopCluster(cluster)
    const reason = `Redis Cluster did not start: ${String(err).split('\n')[0]}`
    if (REQUIRE_SERVICES) throw new Error(`${reason}, and TETHER_REQUIRE_SERVICES=1 requires it`)
    return reason
  }
}

const cluster: TestCluster = {
  dir: mkdtempSync(join(tmpdir(), 'tether-redis-cluster-')),
  ports: [],
  nodes: [],
}
let nodeCluster: ReturnType<typeof createCluster> | undefined
let ioCluster: Cluster | undefined
// If the process dies before the after hook runs, the nodes still go with it.
process.once('exit', killLeftovers.bind(null, cluster))
after(async function tearDown() {
  try {
    await nodeCluster?.close()
    await ioCluster?.quit()
  } finally {
    await stopCluster(cluster)
  }
})

const skip = await setUp(cluster)
if (skip === false) {
  const rootPort = cluster.ports[0] ?? 0
  nodeCluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${rootPort}` }] })
  ioCluster = new Cluster([{ host: '127.0.0.1', port: rootPort }])
  await nodeCluster.connect()
}

function connected(): NonNullable<typeof nodeCluster> {
  if (nodeCluster === undefined) throw new Error('the cluster is not connected')
  return nodeCluster
}

function newPrefix(): string {
  return `tether-test:${randomBytes(6).toString('hex')}:`
}

// The cluster is private to this file and removed with its directory, so tests leave keys in it.
function noCleanup(): Promise<void> {
  return Promise.resolve()
}

describeStoreConformance(
  'RedisStore (node-redis cluster)',
  function openNodeRedisClusterStore(clock) {
    const store = new RedisStore({ client: connected(), prefix: newPrefix(), clock })
    return Promise.resolve({ store, close: noCleanup })
  },
  { skip },
)

describeStoreConformance(
  'RedisStore (ioredis cluster)',
  function openIoRedisClusterStore(clock) {
    if (ioCluster === undefined) throw new Error('the cluster is not connected')
    const store = new RedisStore({ client: ioCluster, prefix: newPrefix(), clock })
    return Promise.resolve({ store, close: noCleanup })
  },
  { skip },
)

describe('RedisStore on a cluster', { skip }, function onCluster() {
  it('caps, lists and revokes one user whose sessions live on several nodes', async function spread() {
    const client = connected()
    const prefix = newPrefix()
    const store = new RedisStore({
      client,
      prefix,
      clock: {
        now: function now() {
          return T0
        },
      },
    })
    const evicted: string[] = []
    for (let n = 0; n < 12; n++) {
      const record = makeRecord({ userId: 'u', createdAt: T0 + n })
      evicted.push(...(await store.create(`s${n}`, record, { maxPerUser: 10 })))
    }
    assert.deepEqual(evicted, ['s0', 's1'])
    assert.equal((await listedKeys(store, 'u')).length, 10)
    let nodesWithSessions = 0
    for (const master of client.masters) {
      const node = await client.nodeClient(master)
      const [, keys] = await node.sendCommand<[string, string[]]>([
        'SCAN',
        '0',
        'MATCH',
        `${prefix}s:*`,
        'COUNT',
        '1000',
      ])
      if (keys.length > 0) nodesWithSessions++
    }
    assert.ok(nodesWithSessions >= 2, `sessions on ${nodesWithSessions} node(s)`)
    assert.equal((await store.destroyByUser('u')).length, 10)
    assert.deepEqual(await listedKeys(store, 'u'), [])
  })
})
