import type { Clock } from '../clock.js'
import { invalidOption } from '../errors.js'
import { MemoryStore } from '../stores/memory.js'
import type { SessionStore } from '../stores/types.js'
import type { ManagerOptions } from './options.js'
import { hasMarks } from './not-before.js'

/** The `store` and `revocationStore` options, resolved. */
export interface StoreChoice {
  /** Stored mode: where sessions live. Sealed mode: the revocation store (only its marks are used). */
  store: SessionStore
  /** The manager made `store` itself, so `close()` releases it. */
  ownsStore: boolean
  /** `store: 'sealed'`: the whole session travels in the cookie (core/sealed/). */
  sealed: boolean
}

/** Validates `store`, `revocationStore` and what depends on the store's abilities. */
export function resolveStore(opts: ManagerOptions, clock: Clock): StoreChoice {
  if (opts.store === 'sealed') return sealedStore(opts, clock)
  if (opts.revocationStore !== undefined) {
    throw invalidOption(
      `"revocationStore" is for store: 'sealed' only; with a session store the "not before" ` +
        `marks live in "store" itself. Remove "revocationStore", or set store: 'sealed'`,
      'revocationStore',
    )
  }
  const store: SessionStore = opts.store ?? new MemoryStore({ clock })
  if (store.tetherStore !== 1) {
    throw invalidOption(
      `"store" is not a Tether store; wrap an express-session store with fromExpressSessionStore() ` +
        `from 'tether-session/stores/compat', or pass store: 'sealed' to keep sessions in the cookie`,
    )
  }
  if (store.userIndex === false && opts.maxSessionsPerUser !== undefined) {
    throw invalidOption(
      `"maxSessionsPerUser" needs a store with a per-user index; this store has none`,
    )
  }
  return { store, ownsStore: opts.store === undefined, sealed: false }
}

function sealedStore(opts: ManagerOptions, clock: Clock): StoreChoice {
  const given = opts.revocationStore
  if (given !== undefined && (given?.tetherStore !== 1 || !hasMarks(given))) {
    throw invalidOption(
      `"revocationStore" must be a Tether store with "not before" marks (MemoryStore, ` +
        `SqliteStore, RedisStore, PostgresStore); a wrapped express-session store has none`,
      'revocationStore',
    )
  }
  if (opts.maxSessionsPerUser !== undefined) {
    throw invalidOption(
      `"maxSessionsPerUser" needs a per-user index of live sessions, and store: 'sealed' keeps ` +
        `none (each session lives only in its cookie). Remove "maxSessionsPerUser", or use a ` +
        `session store (SqliteStore, RedisStore, PostgresStore)`,
      'maxSessionsPerUser',
    )
  }
  return {
    store: given ?? new MemoryStore({ clock }),
    ownsStore: given === undefined,
    sealed: true,
  }
}

/**
 * Sealed mode has no renewal: renewal tells a copied token from its holder by the old id coming
 * back after its grace window, which needs a record per session on the server; a sealed session
 * has none. Off by default there, and refused when asked for.
 */
export function sealedRenewAfter(value: unknown): null {
  if (value === undefined || value === false) return null
  throw invalidOption(
    `"renewAfter" cannot work with store: 'sealed': renewal detects a copied token by its old ` +
      `id coming back after the grace window, which needs a record per session on the server, ` +
      `and a sealed session has none. Remove "renewAfter" (or pass false); to end copied ` +
      `sessions use logout() and revokeUserSessions(), or a session store`,
    'renewAfter',
  )
}
