/** The per-user index: each step is one script on the user's index key or on one session key. */
import type { Clock } from '../../clock.js'
import { sessionLimitReached } from '../../errors.js'
import { runScript } from './client.js'
import type { RedisLike } from './client.js'
import { ADD, READ, SET_IF } from './index-scripts.js'
import { EVICT, PEEK } from './record-scripts.js'
import { parseLiveRecord, readHash, toStrings } from './record.js'
import type { SessionRecord, UserSessionEntry } from '../types.js'

/** What the index steps need from the store. */
export interface IndexContext {
  readonly redis: RedisLike
  readonly clock: Clock
  sessionKey(key: string): string
  indexKey(userId: string): string
}

/** The times an index entry keeps: createdAt orders, lowExp and absExp bound the expiry. */
export interface EntryTimes {
  createdAt: number
  lowExp: number
  absExp: number
}

/** A session flagged for eviction by {@link addEntry}. */
interface Victim {
  key: string
  seq: string
  lowExp: string
}

/** Result of {@link addEntry}: the entry's seq, the value it replaced, and whom to evict. */
export interface Added {
  kept: boolean
  seq: string
  previous: string
  victims: Victim[]
}

interface Entry extends Victim {
  createdAt: number
  absExp: number
  evicting: boolean
}

// After this many PEEK rounds, entries still unverified count as live: at worst one eviction too
// many, never a user over the cap.
const PROBE_ROUNDS = 2

/** The `ix` a session hash carries while `userId`'s index lists it under `seq`. */
export function ident(seq: string, userId: string): string {
  return `${seq} ${JSON.stringify(userId)}`
}

/** The inverse of {@link ident}. */
export function parseIdent(ix: string): { seq: string; userId: string } {
  const space = ix.indexOf(' ')
  return { seq: ix.slice(0, space), userId: JSON.parse(ix.slice(space + 1)) as string }
}

/**
 * Writes the entry of `key` into `userId`'s index and, with `cap` > 0, flags the oldest other
 * live sessions beyond `cap - 1` for eviction, in one script; with `refuse`, it writes nothing
 * and throws `TETHER_SESSION_LIMIT` when `cap` live sessions are there. When an entry whose lowExp
 * has passed would decide the count, the script asks, and this PEEKs those sessions and tries again.
 */
export async function addEntry(
  ctx: IndexContext,
  userId: string,
  key: string,
  times: EntryTimes,
  cap: number,
  ifAbsent: boolean,
  refuse = false,
): Promise<Added> {
  const { createdAt, lowExp, absExp } = times
  let verdicts: string[] = []
  for (let round = 0; ; round++) {
    const head = [String(ctx.clock.now()), `k${key}`, String(createdAt), String(lowExp)]
    const flags = [
      String(absExp),
      String(cap),
      ifAbsent ? '1' : '0',
      round < PROBE_ROUNDS ? '0' : '1',
      refuse ? '1' : '0',
    ]
    const argv = [...head, ...flags, ...verdicts]
    const reply = toStrings(await runScript(ctx.redis, ADD, ctx.indexKey(userId), argv))
    if (reply[0] === 'refused') throw sessionLimitReached(cap)
    if (reply[0] !== 'probe') return parseAdded(reply)
    verdicts = await verify(ctx, userId, reply.slice(1))
  }
}

function parseAdded(reply: string[]): Added {
  const victims: Victim[] = []
  for (let i = 3; i + 2 < reply.length; i += 3) {
    victims.push({
      key: (reply[i] as string).slice(1),
      seq: reply[i + 1] as string,
      lowExp: reply[i + 2] as string,
    })
  }
  return { kept: reply[0] === 'kept', seq: reply[1] ?? '', previous: reply[2] ?? '', victims }
}

/** field, seq, expiry triples for the suspects (field, seq pairs): the expiry if still theirs, else 0. */
async function verify(ctx: IndexContext, userId: string, suspects: string[]): Promise<string[]> {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i + 1 < suspects.length; i += 2)
    pairs.push([suspects[i] as string, suspects[i + 1] as string])
  const peeks = await Promise.all(
    pairs.map(function peek([field]) {
      return runScript(ctx.redis, PEEK, ctx.sessionKey(field.slice(1)), [])
    }),
  )
  return pairs.flatMap(function toVerdict([field, seq], i) {
    const [exp = '', ix = ''] = toStrings(peeks[i])
    return [field, seq, exp !== '' && ix === ident(seq, userId) ? exp : '0']
  })
}

/** Deletes the flagged sessions, then their entries; returns those that were live, oldest first. */
export async function evictVictims(
  ctx: IndexContext,
  userId: string,
  victims: Victim[],
): Promise<string[]> {
  const now = ctx.clock.now()
  const outcomes = await Promise.all(
    victims.map(function evict(v) {
      // A tombstone outlives any create of the victim still in flight (it cannot last past lowExp).
      const tombMs = Math.max(1, Math.ceil(Number(v.lowExp) - now))
      return runScript(ctx.redis, EVICT, ctx.sessionKey(v.key), [
        String(now),
        ident(v.seq, userId),
        String(tombMs),
      ])
    }),
  )
  await setIf(
    ctx,
    userId,
    victims.flatMap(function drop(v) {
      return [`k${v.key}`, v.seq, '']
    }),
  )
  return victims
    .filter(function wasLive(_, i) {
      return outcomes[i] === 'live' || outcomes[i] === 'tomb'
    })
    .map(function toKey(v) {
      return v.key
    })
}

/** Takes back an {@link addEntry} whose create was refused: old entry back, victims unflagged. */
export function undoAdd(
  ctx: IndexContext,
  userId: string,
  key: string,
  added: Added,
): Promise<void> {
  const restore = [`k${key}`, added.seq, added.previous]
  for (const v of added.victims) restore.push(`k${v.key}`, v.seq, '+')
  return setIf(ctx, userId, restore)
}

/** Removes the entry of `key` if it still has `seq`. */
export function dropEntry(
  ctx: IndexContext,
  userId: string,
  key: string,
  seq: string,
): Promise<void> {
  return setIf(ctx, userId, [`k${key}`, seq, ''])
}

async function setIf(ctx: IndexContext, userId: string, triples: string[]): Promise<void> {
  if (triples.length > 0) await runScript(ctx.redis, SET_IF, ctx.indexKey(userId), triples)
}

/** Live sessions of `userId`, oldest first: index entries whose session hash still names them. */
export async function listUser(ctx: IndexContext, userId: string): Promise<UserSessionEntry[]> {
  const now = ctx.clock.now()
  const entries = (await readEntries(ctx, userId, now)).filter(function isListed(e) {
    return !e.evicting
  })
  const replies = await Promise.all(
    entries.map(function get(e) {
      return readHash(ctx.redis, ctx.sessionKey(e.key))
    }),
  )
  const listed: Array<{ entry: Entry; record: SessionRecord }> = []
  entries.forEach(function keepOwned(entry, i) {
    const fields = replies[i]!
    if (valueOf(fields, 'ix') !== ident(entry.seq, userId)) return
    const record = parseLiveRecord(fields, now)
    if (record !== null) listed.push({ entry, record })
  })
  listed.sort(function byAge(a, b) {
    return a.entry.createdAt - b.entry.createdAt || Number(a.entry.seq) - Number(b.entry.seq)
  })
  return listed.map(function toListed({ entry, record }) {
    return { key: entry.key, record }
  })
}

/** Deletes every session of `userId` but `except`, then their entries; returns the live ones. */
export async function destroyUser(
  ctx: IndexContext,
  userId: string,
  except?: string,
): Promise<string[]> {
  const now = ctx.clock.now()
  const entries = (await readEntries(ctx, userId, now)).filter(function isTarget(e) {
    return e.key !== except
  })
  const outcomes = await Promise.all(
    entries.map(function evict(e) {
      return runScript(ctx.redis, EVICT, ctx.sessionKey(e.key), [
        String(now),
        ident(e.seq, userId),
        '',
      ])
    }),
  )
  // A missing session not yet past its lowExp may be a create still in flight: its entry stays,
  // so a later revocation still finds it.
  const drop: string[] = []
  entries.forEach(function dropDone(e, i) {
    if (outcomes[i] !== 'missing' || Number(e.lowExp) <= now) drop.push(`k${e.key}`, e.seq, '')
  })
  await setIf(ctx, userId, drop)
  return entries
    .filter(function wasLive(_, i) {
      return outcomes[i] === 'live'
    })
    .map(function toKey(e) {
      return e.key
    })
}

/** Entries of `userId` not yet past their absolute expiry. */
async function readEntries(ctx: IndexContext, userId: string, now: number): Promise<Entry[]> {
  const flat = toStrings(await runScript(ctx.redis, READ, ctx.indexKey(userId), []))
  const entries: Entry[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i] as string
    const [createdAt = '', seq = '', lowExp = '', absExp = '', flag] = (
      flat[i + 1] as string
    ).split(' ')
    if (field.startsWith('k') && Number(absExp) > now) {
      entries.push({
        key: field.slice(1),
        createdAt: Number(createdAt),
        seq,
        lowExp,
        absExp: Number(absExp),
        evicting: flag === 'x',
      })
    }
  }
  return entries
}

function valueOf(flat: readonly string[], field: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === field) return flat[i + 1]
  return undefined
}
