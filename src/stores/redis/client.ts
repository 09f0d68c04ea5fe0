import { createHash } from 'node:crypto'

/**
 * The one call RedisStore makes: send a command and resolve with its raw reply. `key` is the one
 * key the command touches, so a cluster client can route it. Pass your own object of this shape to
 * use a Redis client other than node-redis or ioredis.
 */
export interface RedisLike {
  send(key: string, args: string[]): Promise<unknown>
}

/** A node-redis (v4 or later) client: `createClient()`. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>
}

/** A node-redis (v4 or later) cluster: `createCluster()`. */
export interface NodeRedisCluster {
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>
}

/** An ioredis client or cluster: `new Redis()`, `new Cluster()`. */
export interface IoRedisClient {
  call(command: string, ...args: string[]): Promise<unknown>
}

/** Any client RedisStore accepts. The application owns it: the store never connects or quits it. */
export type RedisClient = NodeRedisClient | NodeRedisCluster | IoRedisClient | RedisLike

/** A Lua script and its SHA-1, which EVALSHA names it by. */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/** Defines a script once, at module load. */
export function script(name: string, source: string): Script {
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') })
}

/**
 * Wraps `client` in a {@link RedisLike}, telling the kinds apart by shape (no driver is imported);
 * undefined if it is none of them. ioredis is checked first because it has a `sendCommand` too.
 */
export function toRedisLike(client: unknown): RedisLike | undefined {
  if (typeof client !== 'object' || client === null) return undefined
  const c = client as Partial<Record<'send' | 'call' | 'sendCommand' | 'getSlotMaster', unknown>>
  if (typeof c.send === 'function') return client as RedisLike
  if (typeof c.call === 'function') {
    // ioredis routes by the key it finds in the command, also for EVALSHA's numkeys form.
    const io = client as IoRedisClient
    return {
      send: function sendIoRedis(_key, args) {
        const [command = '', ...rest] = args
        return io.call(command, ...rest)
      },
    }
  }
  if (typeof c.sendCommand !== 'function') return undefined
  // v4 and v5 clusters have getSlotMaster (deprecated in v5 for `masters`); clients have neither.
  if (typeof c.getSlotMaster === 'function' || 'masters' in client) {
    const cluster = client as NodeRedisCluster
    return {
      send: function sendNodeRedisCluster(key, args) {
        return cluster.sendCommand(key, false, args)
      },
    }
  }
  const single = client as NodeRedisClient
  return {
    send: function sendNodeRedis(_key, args) {
      return single.sendCommand(args)
    },
  }
}

/**
 * Runs `s` on `key` in one round trip: EVALSHA, or EVAL when the node answers NOSCRIPT (after a
 * restart, SCRIPT FLUSH or failover). EVAL goes to the node owning `key` and caches the script
 * there, which SCRIPT LOAD could not promise on a cluster client that routes keyless commands
 * anywhere.
 */
export async function runScript(
  redis: RedisLike,
  s: Script,
  key: string,
  argv: readonly string[],
): Promise<unknown> {
  try {
    return await redis.send(key, ['EVALSHA', s.sha, '1', key, ...argv])
  } catch (err) {
    if (!isNoScript(err)) throw err
    return redis.send(key, ['EVAL', s.source, '1', key, ...argv])
  }
}

function isNoScript(err: unknown): boolean {
  // The first word of a Redis error reply is its code (RESP "Simple errors"); it is protocol, not
  // a driver's wording, and both node-redis and ioredis keep it at the start of `message`.
  return err instanceof Error && err.message.startsWith('NOSCRIPT')
}
