import { TetherError } from '../../errors.js'
import type { EventContext } from '../../events/types.js'
import { createState } from '../commit.js'
import { dataFromSnapshot, snapshotData } from '../diff.js'
import { endingOperations } from '../ending.js'
import type { SessionManager, SessionState } from '../manager-types.js'
import { createNotBeforeGate } from '../not-before.js'
import type { ResolvedOptions } from '../options.js'
import { authAge, csrfAnchor } from '../session-rules.js'
import { commitSealed, createSealedTokens } from './commit.js'
import { loadSealed } from './load.js'
import { loginSealed, reauthenticateSealed } from './login.js'
import { createOpenedSeals } from './opened-seals.js'
import { createSealedRevocation } from './revocation.js'

/**
 * The session manager of `store: 'sealed'`: the whole session travels in its token, sealed with
 * AES-256-GCM (codec/seal.ts), and no session store exists. The same interface as the stored
 * manager, so the HTTP engine and every adapter work unchanged; what cannot hold without a record
 * per session (an atomic `update(fn)`, listing a user's sessions, renewal) is refused with a
 * `TetherError` saying why (docs/sealed.md). `opts.store` is the revocation store: only its
 * "not before" marks are read and written.
 */
export function createSealedManager(opts: ResolvedOptions): SessionManager {
  const gate = createNotBeforeGate(opts)
  const revocation = createSealedRevocation(opts, gate)
  const seals = createOpenedSeals(opts.keys, (name) => opts.classes.get(name))
  const tokens = createSealedTokens(opts, seals)

  async function destroy(session: SessionState, ctx: EventContext): Promise<void> {
    // A token already issued stays valid until it expires unless its ref is marked as ended.
    if (!session.isNew) await revocation.endSession(session.ref, session.record.absoluteExpiresAt)
    opts.emit('session.destroyed', ctx, { ref: session.ref, userId: session.record.userId })
  }

  async function reload(session: SessionState, ctx: EventContext): Promise<SessionState | null> {
    // Nothing to re-read: the session as last loaded or sealed, unless it was ended meanwhile.
    if (session.isNew || session.snapshot === null) return null
    const record = { ...session.record, data: dataFromSnapshot(session.snapshot) }
    const { id, ref, keptThrough } = session
    const verdict = await revocation.check({ id, ref, record, keptThrough }, ctx)
    if (verdict.refused !== null) return null
    return { ...session, record, snapshot: snapshotData(record.data) }
  }

  return {
    options: opts,
    load: (ctx) => loadSealed(opts, revocation, seals, ctx),
    create: (_ctx, id) => createState(opts, id),
    token: (session) => tokens.token(session),
    commit: (session, ctx, input) =>
      Promise.resolve().then(() => commitSealed(opts, tokens, session, ctx, input)),
    destroy,
    ...endingOperations(opts, destroy),
    reload,
    login: (session, data, userId, ctx, loginOpts) =>
      loginSealed(opts, revocation, session, data, userId, ctx, loginOpts),
    reauthenticate: (session, ctx, reauthOpts) =>
      reauthenticateSealed(opts, revocation, session, ctx, reauthOpts),
    update: function update() {
      return Promise.reject(
        new TetherError(
          'TETHER_NOT_SUPPORTED',
          "session.update(fn) is an atomic read-modify-write on the server, and store: 'sealed' " +
            'keeps the session in its cookie: two requests at once each seal their own copy and ' +
            'the last response wins. Assign to the session instead (the last write wins), or use ' +
            'a session store (SqliteStore, RedisStore, PostgresStore) for atomic updates',
        ),
      )
    },
    authAge: (session) => authAge(session, opts.clock.now()),
    csrfAnchor,
    close: async function close() {
      if (opts.ownsStore) await opts.store.close?.()
    },
    listUserSessions: revocation.listUserSessions,
    revokeSession: revocation.revokeSession,
    revokeUserSessions: revocation.revokeUserSessions,
    revokeAllSessions: revocation.revokeAllSessions,
  }
}
