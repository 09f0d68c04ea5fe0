/**
 * RedisStore: sessions in Redis or Redis Cluster, through node-redis (v4+) or ioredis.
 *
 * Atomicity. A session is looked up by its key alone, so its hash lives in the key's slot; a
 * user's index must live in the user's slot. Those are two slots, and no script may touch two
 * slots on a cluster, so every script here names exactly ONE key (no hash tags needed) and the
 * operations that involve both are ordered steps, each atomic on its own:
 * - get, touch, update (userId unchanged), anonymous create, destroy of an anonymous session:
 *   one script, one round trip.
 * - create with a userId: (1) the index entry is written and, under `maxPerUser`, the oldest
 *   other live sessions are flagged for eviction in the same script, so the index never holds
 *   more than the cap; (2) the session hash; (3) the flagged sessions are deleted, then their
 *   entries. Two round trips, four when it evicts. Under `onLimit: 'refuse'` step (1) writes
 *   nothing when the cap is reached and the create is refused, so concurrent logins never pass it.
 * - destroy of a user's session, destroyByUser, eviction: the session first, its entry after.
 * - update changing userId: new entry, session, old entry removed.
 * So a crash between steps leaves at worst an index entry without a session (listings check each
 * session and skip it; it goes at its absolute expiry), never a live session missing from its
 * user's index: revocation always finds it. A session evicted before its create arrived gets a
 * tombstone, so that create writes nothing.
 *
 * Liveness is decided by the injected clock (`now` is an argument of every script); each hash also
 * gets a PX TTL to its expiry so Redis frees it. The index keeps each session's expiry as of its
 * creation, a lower bound since touch does not visit the index: when sessions past it would decide
 * an eviction, the store reads their real expiry first (two more round trips), so idle-expired
 * sessions never count against the cap.
 *
 * Limits: a login racing destroyByUser may survive it (as if it came after); a failed login
 * create (Redis gone mid-way) can leave its flagged sessions usable but unlisted until they expire
 * (destroyByUser still removes them). Key layout and TTLs: docs/stores/redis.md.
 */
import { systemClock, type Clock } from '../clock.js'
import { keyInUse, show } from './internal.js'
import { invalidOption } from '../errors.js'
import { expiresAt } from './types.js'
import type {
  CreateOptions,
  NotBeforeMarks,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTimes,
  UpdateResult,
  UserSessionEntry,
} from './types.js'
import { runScript, toRedisLike } from './redis/client.js'
import type { RedisClient, RedisLike } from './redis/client.js'

import { CREATE, DESTROY, TOUCH, UPDATE } from './redis/record-scripts.js'
import { GET_MARK, SET_MARK } from './redis/mark-scripts.js'
import { parseLiveRecord, patchFields, readHash, recordPairs, toStrings } from './redis/record.js'
import {
  addEntry,
  destroyUser,
  dropEntry,
  evictVictims,
  ident,
  listUser,
  parseIdent,
  undoAdd,
} from './redis/user-index.js'
import type { Added, EntryTimes, IndexContext } from './redis/user-index.js'

export type {
  IoRedisClient,
  NodeRedisClient,
  NodeRedisCluster,
  RedisClient,
  RedisLike,
} from './redis/client.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis client or cluster (`createClient`, `createCluster`), an ioredis client
   * or cluster, or any {@link RedisLike}. The store never connects, quits or reconfigures it.
   */
  client: RedisClient
  /**
   * Prepended to every key. No `{` or `}`: a hash tag would put every session on one cluster node.
   * @default 'tether:'
   */
  prefix?: string
  /**
   * Decides which sessions are live; tests pass one they can advance.
   * @default systemClock
   */
  clock?: Clock
}

/**
 * Sessions in Redis or Redis Cluster. Each session is a hash under `<prefix>s:<key>`, each user's
 * index a hash under `<prefix>u:<userId>`, each "not before" mark a hash under `<prefix>nb:<scope>`;
 * see the comment at the top of this file for atomicity.
 */
export class RedisStore implements SessionStore, NotBeforeMarks {
  /** Brand of a Tether store. */
  readonly tetherStore = 1
  private readonly redis: RedisLike
  private readonly clock: Clock
  private readonly ctx: IndexContext
  private readonly prefix: string

  constructor(options: RedisStoreOptions) {
    const { redis, prefix, clock } = resolveOptions(options)
    this.redis = redis
    this.clock = clock
    this.prefix = prefix
    this.ctx = {
      redis,
      clock,
      sessionKey: function sessionKey(key) {
        return `${prefix}s:${key}`
      },
      indexKey: function indexKey(userId) {
        return `${prefix}u:${userId}`
      },
    }
  }

  /** The live record under `key`, or null. One command: a plain HGETALL. */
  async get(key: string): Promise<SessionRecord | null> {
    const pairs = await readHash(this.redis, this.ctx.sessionKey(key))
    return parseLiveRecord(pairs, this.clock.now())
  }

  /**
   * Inserts `record`. Anonymous: one round trip. With a userId: the index entry first (flagging
   * the oldest sessions beyond `maxPerUser`), then the record, then the flagged sessions and
   * their entries.
   */
  async create(key: string, record: SessionRecord, options: CreateOptions = {}): Promise<string[]> {
    const { maxPerUser } = options
    if (maxPerUser !== undefined && (!Number.isSafeInteger(maxPerUser) || maxPerUser < 1)) {
      throw invalidOption(`"maxPerUser" must be a positive integer; got ${show(maxPerUser)}`)
    }
    const times = entryTimes(record)
    const { userId } = record
    // A record dead on arrival is never listed, so it needs no entry.
    if (userId === undefined || times.lowExp <= this.clock.now()) {
      await this.write(key, record, '')
      return []
    }
    const refuse = options.onLimit === 'refuse'
    const added = await addEntry(this.ctx, userId, key, times, maxPerUser ?? 0, false, refuse)
    if (!(await this.write(key, record, ident(added.seq, userId)))) {
      await undoAdd(this.ctx, userId, key, added)
      throw keyInUse('RedisStore')
    }
    return added.victims.length === 0 ? [] : evictVictims(this.ctx, userId, added.victims)
  }

  /** Merges `patch` into the live record in one script; see {@link SessionStore.update}. */
  async update(
    key: string,
    patch: SessionPatch,
    options: { ifVersion?: number } = {},
  ): Promise<UpdateResult> {
    const move = await this.prepareMove(key, patch)
    const { deletes, sets } = patchFields(patch)
    const ifVersion = options.ifVersion === undefined ? '' : String(options.ifVersion)
    const idle = String(patch.times.idleExpiresAt)
    const argv = [this.now(), ifVersion, move.ix, idle, String(deletes.length), ...deletes, ...sets]
    const reply = await runScript(this.redis, UPDATE, this.ctx.sessionKey(key), argv)
    if (reply === 'missing' || reply === 'conflict') {
      if (move.added?.kept === false) await dropEntry(this.ctx, move.userId, key, move.added.seq)
      return { ok: false, reason: reply }
    }
    const [, before = '', v = ''] = toStrings(reply)
    if (move.ix !== '' && before !== '' && before !== move.ix) {
      const old = parseIdent(before)
      await dropEntry(this.ctx, old.userId, key, old.seq)
    }
    return { ok: true, v: Number(v) }
  }

  /** Moves the idle expiry of the live record under `key`; false if there is none. One round trip. */
  async touch(key: string, times: SessionTimes): Promise<boolean> {
    const argv = [this.now(), String(times.lastSeenAt), String(times.idleExpiresAt)]
    return (await runScript(this.redis, TOUCH, this.ctx.sessionKey(key), argv)) === 1
  }

  /** Removes the session under `key`, then its index entry if it had a user. */
  async destroy(key: string): Promise<void> {
    const ix = await runScript(this.redis, DESTROY, this.ctx.sessionKey(key), [])
    if (typeof ix !== 'string' || ix === '') return
    const { seq, userId } = parseIdent(ix)
    await dropEntry(this.ctx, userId, key, seq)
  }

  /** Live sessions of `userId`, oldest first: the index, then each session (in parallel). */
  listByUser(userId: string): Promise<UserSessionEntry[]> {
    return listUser(this.ctx, userId)
  }

  /** Removes the sessions of `userId` but `except`; returns the keys of the live ones removed. */
  destroyByUser(userId: string, options: { except?: string } = {}): Promise<string[]> {
    return destroyUser(this.ctx, userId, options.except)
  }

  /** The live "not before" mark of `scope`, or null. One round trip. */
  async getNotBefore(scope: string): Promise<number | null> {
    const reply = await runScript(this.redis, GET_MARK, this.markKey(scope), [this.now()])
    return reply === null || reply === undefined ? null : Number(toStrings([reply])[0])
  }

  /** Sets the "not before" mark of `scope`, never moving a live one backwards. One round trip. */
  async setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    const argv = [this.now(), String(at), String(expiresAt)]
    await runScript(this.redis, SET_MARK, this.markKey(scope), argv)
  }

  /** Does nothing: the store owns no timer, and the client belongs to the application. */
  close(): Promise<void> {
    return Promise.resolve()
  }

  private markKey(scope: string): string {
    return `${this.prefix}nb:${scope}`
  }

  private now(): string {
    return String(this.clock.now())
  }

  /** False if a live session already holds `key`. */
  private async write(key: string, record: SessionRecord, ix: string): Promise<boolean> {
    const now = this.clock.now()
    const ttlMs = Math.ceil(expiresAt(record) - now)
    const argv = [String(now), String(Math.max(0, ttlMs)), ix, ...recordPairs(record, ix)]
    const reply = await runScript(this.redis, CREATE, this.ctx.sessionKey(key), argv)
    if (reply === 'exists' && ix === '') {
      throw keyInUse('RedisStore')
    }
    return reply !== 'exists'
  }

  /**
   * For an update that sets or clears userId: the `ix` the record gets ('-' clears it), after
   * writing the entry in the new user's index, before the record names that user.
   */
  private async prepareMove(
    key: string,
    patch: SessionPatch,
  ): Promise<{ ix: string; userId: string; added?: Added }> {
    if (!Object.hasOwn(patch.fields, 'userId')) return { ix: '', userId: '' }
    const { userId } = patch.fields
    if (userId === undefined) return { ix: '-', userId: '' }
    const added = await addEntry(this.ctx, userId, key, entryTimes(patch.next), 0, true)
    return { ix: ident(added.seq, userId), userId, added }
  }
}

function entryTimes(record: SessionRecord): EntryTimes {
  const times = {
    createdAt: record.createdAt,
    lowExp: expiresAt(record),
    absExp: record.absoluteExpiresAt,
  }
  if (!Object.values(times).every(Number.isFinite)) {
    throw new Error('RedisStore: createdAt and the expiry times of a record must be finite numbers')
  }
  return times
}

/** Checks every option once, at construction, and fills in the defaults. */
function resolveOptions(options: RedisStoreOptions) {
  const { client, prefix = 'tether:', clock = systemClock } = options ?? {}
  const redis = toRedisLike(client)
  if (redis === undefined) {
    throw invalidOption(
      `"client" must be a node-redis client or cluster, an ioredis client or cluster, or an ` +
        `object with send(key, args); got ${show(client)}`,
    )
  }
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw invalidOption(
      `"prefix" must be a string without "{" or "}" (a hash tag would put every session on one ` +
        `cluster node); got ${show(prefix)}. Omit it for "tether:".`,
    )
  }
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw invalidOption(`"clock" must be an object with a now() method; got ${show(clock)}`)
  }
  return { redis, prefix, clock }
}
