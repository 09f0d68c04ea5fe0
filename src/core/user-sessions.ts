import { isSessionRef } from '../codec/ids.js'
import type { ResolvedOptions } from './options.js'
import { findSuccessor } from './renewal.js'
import { storeCall } from './store-call.js'

/** One of a user's sessions as shown to that user: never a token or an id. */
export interface UserSessionInfo {
  /** Opaque reference, for `revokeSession(ref)`. */
  ref: string
  /** True for the session of the request that asked, when its ref was passed. */
  current: boolean
  createdAt: number
  lastSeenAt: number
  authAt?: number
  userAgent?: string
  /** Network of the login address (/24 or /48), never the full address. */
  ip?: string
  sessionClass: string
}

/** Per-user listing and revocation (the `.manager` of the Express middleware). */
export interface UserSessions {
  /** Live sessions of `userId`, oldest first. Pass the current ref to mark it `current`. */
  listUserSessions: (userId: string, opts?: { current?: string }) => Promise<UserSessionInfo[]>
  /**
   * Ends one session. With `userId`, only if the session belongs to that user, so a request
   * cannot revoke another user's session by guessing a ref. Returns whether one was removed.
   */
  revokeSession: (ref: string, opts?: { userId?: string }) => Promise<boolean>
  /** Ends every session of `userId`, except the one with ref `except`. Returns how many ended. */
  revokeUserSessions: (userId: string, opts?: { except?: string }) => Promise<number>
}

export function createUserSessions(opts: ResolvedOptions): UserSessions {
  const { store, emit } = opts

  async function listUserSessions(
    userId: string,
    listOpts: { current?: string } = {},
  ): Promise<UserSessionInfo[]> {
    const entries = await storeCall(opts, 'listByUser', undefined, () => store.listByUser(userId))
    return entries.map(function toInfo({ key, record }) {
      const info: UserSessionInfo = {
        ref: key,
        current: key === listOpts.current,
        createdAt: record.createdAt,
        lastSeenAt: record.lastSeenAt,
        sessionClass: record.sessionClass,
      }
      if (record.authAt !== undefined) info.authAt = record.authAt
      if (record.meta.ua !== undefined) info.userAgent = record.meta.ua
      if (record.meta.ipPrefix !== undefined) info.ip = record.meta.ipPrefix
      return info
    })
  }

  async function revokeSession(
    ref: string,
    revokeOpts: { userId?: string } = {},
  ): Promise<boolean> {
    // A malformed ref never reaches the store.
    if (!isSessionRef(ref)) return false
    let record = await storeCall(opts, 'get', undefined, () => store.get(ref))
    if (record === null && opts.renewAfterMs !== null) {
      // A ref shown before a renewal names the session it was renewed into.
      const next = await findSuccessor(opts, undefined, ref)
      if (next !== null) ({ ref, record } = next)
    }
    if (record === null) return false
    if (revokeOpts.userId !== undefined && record.userId !== revokeOpts.userId) return false
    await storeCall(opts, 'destroy', undefined, () => store.destroy(ref))
    emit('session.revoked', undefined, { reason: 'user', ref, userId: record.userId })
    return true
  }

  async function revokeUserSessions(
    userId: string,
    revokeOpts: { except?: string } = {},
  ): Promise<number> {
    const destroyOpts = revokeOpts.except === undefined ? {} : { except: revokeOpts.except }
    const gone = await storeCall(opts, 'destroyByUser', undefined, () =>
      store.destroyByUser(userId, destroyOpts),
    )
    for (const ref of gone) emit('session.revoked', undefined, { reason: 'user', ref, userId })
    return gone.length
  }

  return { listUserSessions, revokeSession, revokeUserSessions }
}
