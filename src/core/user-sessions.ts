import { isSessionRef } from '../codec/ids.js'
import type { ResolvedOptions } from './options.js'
import type { SessionRecord } from '../stores/types.js'
import type { NotBeforeGate } from './not-before.js'
import { destroyChain, findSuccessor } from './renewal.js'
import { storeCall } from './store-call.js'
import type { UserSessionInfo, UserSessions } from './manager-types.js'

/** Rounds of revokeUserSessions while renewals race it (each one re-reads the user's index). */
const MAX_PASSES = 4

export function createUserSessions(opts: ResolvedOptions, notBefore: NotBeforeGate): UserSessions {
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
    const found = await current(ref)
    if (found === null) return false
    if (revokeOpts.userId !== undefined && found.record.userId !== revokeOpts.userId) return false
    // Through the renewal chain: a renewal racing this revocation cannot carry the session on.
    await destroyChain(opts, undefined, found.ref)
    emit('session.revoked', undefined, {
      reason: 'user',
      ref: found.ref,
      userId: found.record.userId,
    })
    return true
  }

  /** The live session `ref` names: its own record, or (a ref shown before a renewal) its successor's. */
  async function current(ref: string): Promise<{ ref: string; record: SessionRecord } | null> {
    const record = await storeCall(opts, 'get', undefined, () => store.get(ref))
    if (record !== null) return { ref, record }
    if (opts.renewAfterMs === null) return null
    return findSuccessor(opts, undefined, ref)
  }

  async function revokeUserSessions(
    userId: string,
    revokeOpts: { except?: string } = {},
  ): Promise<number> {
    const gone: string[] = []
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      // Resolved each pass: the session to keep may have been renewed by a parallel request.
      const except =
        revokeOpts.except === undefined ? undefined : (await current(revokeOpts.except))?.ref
      const destroyOpts = except === undefined ? {} : { except }
      const removed = await storeCall(opts, 'destroyByUser', undefined, () =>
        store.destroyByUser(userId, destroyOpts),
      )
      gone.push(...removed)
      if (opts.renewAfterMs === null) break
      // A session renewed while the pass ran lives on under a key the pass did not see: go again
      // until none is left.
      const left = await storeCall(opts, 'listByUser', undefined, () => store.listByUser(userId))
      if (!left.some((entry) => entry.key !== except)) break
    }
    for (const ref of gone) emit('session.revoked', undefined, { reason: 'user', ref, userId })
    return gone.length
  }

  return {
    listUserSessions,
    revokeSession,
    revokeUserSessions,
    revokeAllSessions: notBefore.revokeAll,
  }
}
