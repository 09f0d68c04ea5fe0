import { EventEmitter } from 'node:events'
import type { Callback, ExpressSessionData } from '../../stores/compat.js'

/** Options of the @fastify/session-style `MemoryStore`. */
export interface FastifyMemoryStoreOptions {
  /** At most this many sessions; the least recently used is evicted first. @default 10000 */
  maxEntries?: number
}

/**
 * @fastify/session's `MemoryStore` (also exported as `Store`, as there): an EventEmitter keeping
 * sessions in a `Map` (given, or its own) as `.store`, with callback `get`/`set`/`destroy`. Passed
 * as `store`, Tether wraps it like any express-session store (hashed keys, its own records).
 * Unlike @fastify/session's it is bounded (least recently used evicted) and forgets a session
 * whose `cookie.expires` has passed. Without a `store` option Tether uses its own `MemoryStore`
 * (atomic merges, per-user index): this class is for code written against @fastify/session's.
 */
export class MemoryStore extends EventEmitter {
  /** The sessions by id, as @fastify/session's store keeps them (tests and tools read it). */
  readonly store: Map<string, unknown>
  private readonly maxEntries: number

  constructor(storeMap: Map<string, unknown> = new Map(), options: FastifyMemoryStoreOptions = {}) {
    super()
    this.store = storeMap
    this.maxEntries = options.maxEntries ?? 10_000
  }

  /** Stores `session` under `sessionId` as given (@fastify/session API). */
  set(sessionId: string, session: unknown, callback?: Callback): void {
    this.store.delete(sessionId)
    this.store.set(sessionId, session)
    if (this.store.size > this.maxEntries) this.store.delete(this.store.keys().next().value!)
    callback?.()
  }

  /** The session stored under `sessionId`, or undefined (@fastify/session API). */
  get(sessionId: string, callback: Callback<unknown>): void {
    const session = this.store.get(sessionId)
    if (session === undefined) return callback(null, undefined)
    // Read again: it moves to the end of the eviction order.
    this.store.delete(sessionId)
    if (isExpired(session)) return callback(null, undefined)
    this.store.set(sessionId, session)
    callback(null, session)
  }

  /** Removes the session stored under `sessionId` (@fastify/session API). */
  destroy(sessionId: string, callback?: Callback): void {
    this.store.delete(sessionId)
    callback?.()
  }
}

/** @fastify/session exports its memory store under both names. */
export const Store = MemoryStore
export type Store = MemoryStore

/** A stored session whose cookie expiry has passed. */
function isExpired(session: unknown): boolean {
  const expires = (session as Partial<ExpressSessionData> | null)?.cookie?.expires
  if (expires === undefined || expires === null) return false
  const at = new Date(expires).getTime()
  return Number.isFinite(at) && at <= Date.now()
}
