/**
 * `tether-session`: the framework-free core. Adapters live at subpaths
 * (`tether-session/express`), stores at `tether-session/stores/*`.
 */
export { createSessionManager } from './core/manager.js'
export { TetherError, isTetherError } from './errors.js'
export { MemoryStore } from './stores/memory.js'
export { sessionRef } from './codec/ids.js'
export { systemClock } from './clock.js'
export { expiresAt, applyPatch } from './stores/types.js'
export { unmapIPv4 } from './core/unmap-ipv4.js'

export type { TetherErrorCode } from './errors.js'
export type {
  SessionManager,
  SessionState,
  RequestContext,
  LoadOutcome,
  CommitInput,
  CommitOutcome,
} from './core/manager-types.js'
export type {
  ManagerOptions,
  SessionClassOptions,
  ResolvedOptions,
  ClassPolicy,
} from './core/options.js'
export type { UserSessionInfo, UserSessions } from './core/manager-types.js'
export type { TetherEvent, TetherEventType, EventListener } from './events/types.js'
export type { SecretInput, KeyEntry, Keyring } from './codec/keyring.js'
export type {
  SessionStore,
  SessionRecord,
  SessionPatch,
  SessionTimes,
  SessionFields,
  StoredCookie,
  UpdateResult,
  UserSessionEntry,
  CreateOptions,
  SessionLimitPolicy,
  NotBeforeMarks,
} from './stores/types.js'
export type { Clock } from './clock.js'
export type { MemoryStoreOptions } from './stores/memory.js'

/**
 * Application session data. Extend it to type `req.session`:
 *
 *   declare module 'tether-session' { interface SessionData { userId: string; views: number } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}
