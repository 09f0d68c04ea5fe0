import { systemClock, type Clock } from '../clock.js'
import { invalidOption, sessionLimitReached } from '../errors.js'
import { keyInUse, settle, show } from './internal.js'
import { applyPatch, expiresAt } from './types.js'
import type {
  CreateOptions,
  NotBeforeMarks,
  SessionLimitPolicy,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SessionTimes,
  UpdateResult,
  UserSessionEntry,
} from './types.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions held at once. Inserting one more evicts, in this order: a renewal marker, the
   * least recently used anonymous session, the least recently used logged-in one. So anonymous
   * requests, however many, never evict a logged-in user; a flood of logins still can.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * How often expired sessions are removed, in ms. The timer is unref'd.
   * @default 60_000
   */
  sweepIntervalMs?: number
  /**
   * Decides which sessions are live; tests pass one they can advance.
   * @default systemClock
   */
  clock?: Clock
}

/** One stored session. The record is kept as JSON so no caller ever holds a reference into it. */
interface Entry {
  json: string
  userId: string | undefined
  createdAt: number
  expiresAt: number
  v: number
  /** Insertion order, which breaks createdAt ties the way SQLite's rowid does. */
  seq: number
  /** A renewal marker (no data, no user): evicted before any session when the store is full. */
  marker: boolean
}

/** Which eviction queue an entry waits in; logged-in sessions wait in `entries` itself. */
function queueOf(entry: Entry): 'marker' | 'anonymous' | 'user' {
  return entry.marker ? 'marker' : entry.userId === undefined ? 'anonymous' : 'user'
}

// setInterval turns larger delays into 1 ms (TimeoutOverflowWarning).
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A bounded in-process store: an LRU of at most `maxEntries` sessions, swept for expired ones on an
 * unref'd timer. Past the bound, renewal markers go first, then anonymous sessions, then logged-in
 * ones, each least recently used first, in O(1): cookie-less requests cannot log anyone out.
 * Sessions vanish on restart and are not shared between processes.
 */
export class MemoryStore implements SessionStore, NotBeforeMarks {
  /** Brand of a Tether store. */
  readonly tetherStore = 1
  private readonly entries = new Map<string, Entry>()
  private readonly byUser = new Map<string, Set<string>>()
  /** Keys of renewal markers, oldest first. */
  private readonly markers = new Set<string>()
  /** Keys of anonymous sessions (no user), least recently used first. */
  private readonly anonymous = new Set<string>()
  private readonly maxEntries: number
  private readonly clock: Clock
  private timer: NodeJS.Timeout | undefined
  private nextSeq = 0
  /** "Not before" marks by scope (see {@link NotBeforeMarks}). */
  private readonly notBefore = new Map<string, { at: number; expiresAt: number }>()

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 10_000, sweepIntervalMs = 60_000, clock = systemClock } = options
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw invalidOption(
        `"maxEntries" must be a positive integer; got ${show(maxEntries)}. Omit it for 10000.`,
      )
    }
    if (!isTimerDelay(sweepIntervalMs)) {
      throw invalidOption(
        `"sweepIntervalMs" must be a whole number of ms from 1 to ${MAX_TIMER_MS}; ` +
          `got ${show(sweepIntervalMs)}. Omit it for 60000.`,
      )
    }
    if (!isClock(clock)) {
      throw invalidOption(`"clock" must be an object with a now() method; got ${show(clock)}`)
    }
    this.maxEntries = maxEntries
    this.clock = clock
    this.timer = setInterval(this.sweep.bind(this), sweepIntervalMs).unref()
  }

  /** Sessions held, including expired ones the sweep has not removed yet. */
  get size(): number {
    return this.entries.size
  }

  /** Removes every expired session (and expired mark) now; returns how many sessions. The timer calls it too. */
  sweep(): number {
    const now = this.clock.now()
    let removed = 0
    for (const [key, entry] of this.entries) {
      if (now >= entry.expiresAt) {
        this.remove(key, entry)
        removed++
      }
    }
    // Marks are few in stored mode, but sealed mode sets one per logout.
    for (const [scope, mark] of this.notBefore)
      if (now >= mark.expiresAt) this.notBefore.delete(scope)
    return removed
  }

  /** The live record under `key`, or null. Marks it recently used. */
  get(key: string): Promise<SessionRecord | null> {
    return settle(function get(this: MemoryStore) {
      const entry = this.live(key)
      if (entry === undefined) return null
      this.place(key, entry)
      return parse(entry.json)
    }, this)
  }

  /** Inserts `record`, evicting the user's oldest sessions beyond `maxPerUser` (or refusing). */
  create(key: string, record: SessionRecord, options: CreateOptions = {}): Promise<string[]> {
    return settle(function create(this: MemoryStore) {
      const { maxPerUser, onLimit } = options
      if (maxPerUser !== undefined && (!Number.isSafeInteger(maxPerUser) || maxPerUser < 1)) {
        throw invalidOption(`"maxPerUser" must be a positive integer; got ${show(maxPerUser)}`)
      }
      if (this.live(key) !== undefined) {
        throw keyInUse('MemoryStore')
      }
      // Serialise first: a record that cannot be stored must not cost the user any session.
      const entry = toEntry(record, this.nextSeq++)
      const evicted =
        entry.userId !== undefined && maxPerUser !== undefined
          ? this.makeRoom(entry.userId, maxPerUser, onLimit)
          : []
      this.place(key, entry)
      this.enforceMaxEntries()
      return evicted
    }, this)
  }

  /** Merges `patch` into the live record under `key`; see {@link SessionStore.update}. */
  update(
    key: string,
    patch: SessionPatch,
    options: { ifVersion?: number } = {},
  ): Promise<UpdateResult> {
    return settle(function update(this: MemoryStore): UpdateResult {
      const entry = this.live(key)
      if (entry === undefined) return { ok: false, reason: 'missing' }
      if (options.ifVersion !== undefined && entry.v !== options.ifVersion) {
        return { ok: false, reason: 'conflict' }
      }
      // Unchanged since the request loaded it (still at next.v - 1): the merge would give `next`.
      const unchanged = entry.v === patch.next.v - 1
      const record = unchanged ? patch.next : applyPatch(parse(entry.json), patch)
      const next = toEntry(record, entry.seq)
      // An update that ends the session (as a renewal does) frees its entry at once.
      if (this.clock.now() >= next.expiresAt) this.remove(key, entry)
      else this.place(key, next, entry)
      return { ok: true, v: next.v }
    }, this)
  }

  /** Moves the idle expiry of the live record under `key`; false if there is none. */
  touch(key: string, times: SessionTimes): Promise<boolean> {
    return settle(function touch(this: MemoryStore) {
      const entry = this.live(key)
      if (entry === undefined) return false
      const record = parse(entry.json)
      record.lastSeenAt = times.lastSeenAt
      record.idleExpiresAt = times.idleExpiresAt
      this.place(key, toEntry(record, entry.seq), entry)
      return true
    }, this)
  }

  /** Removes the session under `key`, if any. */
  destroy(key: string): Promise<void> {
    return settle(function destroy(this: MemoryStore) {
      const entry = this.entries.get(key)
      if (entry !== undefined) this.remove(key, entry)
    }, this)
  }

  /** Live sessions of `userId`, oldest first. */
  listByUser(userId: string): Promise<UserSessionEntry[]> {
    return settle(function listByUser(this: MemoryStore) {
      return this.liveOfUser(userId).map(function toListed([key, entry]) {
        return { key, record: parse(entry.json) }
      })
    }, this)
  }

  /** Removes the sessions of `userId` but `except`; returns the keys of the live ones removed. */
  destroyByUser(userId: string, options: { except?: string } = {}): Promise<string[]> {
    return settle(function destroyByUser(this: MemoryStore) {
      const removed: string[] = []
      const now = this.clock.now()
      for (const key of this.byUser.get(userId) ?? []) {
        const entry = this.entries.get(key)
        if (key === options.except || entry === undefined) continue
        this.remove(key, entry)
        if (now < entry.expiresAt) removed.push(key)
      }
      return removed
    }, this)
  }

  /** The live "not before" mark of `scope`, or null. */
  getNotBefore(scope: string): Promise<number | null> {
    return settle(function getNotBefore(this: MemoryStore) {
      const mark = this.notBefore.get(scope)
      if (mark === undefined) return null
      if (this.clock.now() < mark.expiresAt) return mark.at
      this.notBefore.delete(scope)
      return null
    }, this)
  }

  /** Sets the "not before" mark of `scope`, never moving a live one backwards. */
  setNotBefore(scope: string, at: number, expiresAt: number): Promise<void> {
    return settle(function setNotBefore(this: MemoryStore) {
      const mark = this.notBefore.get(scope)
      if (mark === undefined || this.clock.now() >= mark.expiresAt) {
        this.notBefore.set(scope, { at, expiresAt })
        return
      }
      mark.at = Math.max(mark.at, at)
      mark.expiresAt = Math.max(mark.expiresAt, expiresAt)
    }, this)
  }

  /** Stops the sweep timer. The sessions stay readable until the store is dropped. */
  close(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    return Promise.resolve()
  }

  /** The entry under `key` if live; an expired one is removed on sight. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || this.clock.now() < entry.expiresAt) return entry
    this.remove(key, entry)
    return undefined
  }

  /** Live sessions of `userId` as [key, entry], oldest first. */
  private liveOfUser(userId: string): Array<[string, Entry]> {
    const found: Array<[string, Entry]> = []
    for (const key of this.byUser.get(userId) ?? []) {
      const entry = this.live(key)
      if (entry !== undefined) found.push([key, entry])
    }
    return found.sort(function byAge([, a], [, b]) {
      return a.createdAt - b.createdAt || a.seq - b.seq
    })
  }

  /** Room for one more session of `userId` under the cap: evicts the oldest, or refuses. */
  private makeRoom(userId: string, maxPerUser: number, onLimit?: SessionLimitPolicy): string[] {
    if (onLimit !== 'refuse') return this.evictOldest(userId, maxPerUser - 1)
    if (this.liveOfUser(userId).length >= maxPerUser) throw sessionLimitReached(maxPerUser)
    return []
  }

  /** Removes the oldest live sessions of `userId` until `keep` remain; returns their keys. */
  private evictOldest(userId: string, keep: number): string[] {
    const sessions = this.liveOfUser(userId)
    const evicted: string[] = []
    for (const [key, entry] of sessions.slice(0, Math.max(0, sessions.length - keep))) {
      this.remove(key, entry)
      evicted.push(key)
    }
    return evicted
  }

  /**
   * Over `maxEntries`: renewal markers go first (oldest first), then anonymous sessions, then
   * logged-in ones (each least recently used first). Each queue's head is its victim: O(1).
   */
  private enforceMaxEntries(): void {
    for (const queue of [this.markers, this.anonymous]) {
      for (const key of queue) {
        if (this.entries.size <= this.maxEntries) return
        this.remove(key, this.entries.get(key)!)
      }
    }
    // Only logged-in sessions are left, in LRU order.
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) return
      this.remove(key, entry)
    }
  }

  /** Stores `entry` as the most recently used, replacing `previous` in the user index. */
  private place(key: string, entry: Entry, previous?: Entry): void {
    this.entries.delete(key)
    this.entries.set(key, entry)
    this.markers.delete(key)
    this.anonymous.delete(key)
    const queue = queueOf(entry)
    if (queue === 'marker') this.markers.add(key)
    else if (queue === 'anonymous') this.anonymous.add(key)
    if (previous !== undefined && previous.userId !== entry.userId) this.unindex(key, previous)
    if (entry.userId === undefined) return
    let keys = this.byUser.get(entry.userId)
    if (keys === undefined) this.byUser.set(entry.userId, (keys = new Set()))
    keys.add(key)
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key)
    this.markers.delete(key)
    this.anonymous.delete(key)
    this.unindex(key, entry)
  }

  private unindex(key: string, entry: Entry): void {
    if (entry.userId === undefined) return
    const keys = this.byUser.get(entry.userId)
    keys?.delete(key)
    if (keys?.size === 0) this.byUser.delete(entry.userId)
  }
}

function toEntry(record: SessionRecord, seq: number): Entry {
  // JSON, not structuredClone: Memory then keeps exactly what SQLite, Redis and Postgres keep.
  const json = JSON.stringify(record)
  const { userId, createdAt, v } = record
  const marker = record.rotatedTo !== undefined
  return { json, userId, createdAt, expiresAt: expiresAt(record), v, seq, marker }
}

function parse(json: string): SessionRecord {
  // JSON.parse defines `__proto__` as an own property, never as the prototype.
  return JSON.parse(json) as SessionRecord
}

function isTimerDelay(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TIMER_MS
}

function isClock(value: unknown): value is Clock {
  return typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function'
}
