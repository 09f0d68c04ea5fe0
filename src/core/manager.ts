import type { EventContext } from '../events/types.js'
import { commitSession, createState, tokenOf } from './commit.js'
import { loadSession } from './load.js'
import { loginSession, reauthenticateSession } from './login.js'
import type { SessionManager, SessionState } from './manager-types.js'
import { createNotBeforeGate } from './not-before.js'
import { endingOperations } from './ending.js'
import { resolveOptions, type ManagerOptions } from './options.js'
import { createSealedManager } from './sealed/manager.js'
import { authAge, csrfAnchor } from './session-rules.js'
import { destroySession, reloadSession, updateSession } from './update.js'
import { createUserSessions } from './user-sessions.js'

/**
 * Builds a session manager; every option is validated here, once. Each operation lives in its own
 * file and takes the resolved options as its context (load.ts, commit.ts, login.ts, update.ts,
 * renewal.ts, user-sessions.ts).
 */
export function createSessionManager(options: ManagerOptions): SessionManager {
  const opts = resolveOptions(options)
  // store: 'sealed': the same interface, with the session in the token (core/sealed/).
  if (opts.sealed) return createSealedManager(opts)
  const notBefore = createNotBeforeGate(opts)
  const destroy = (session: SessionState, ctx: EventContext) => destroySession(opts, session, ctx)

  return {
    options: opts,
    load: (ctx) => loadSession(opts, notBefore, ctx),
    create: (_ctx, id) => createState(opts, id),
    token: (session) => tokenOf(opts, session),
    commit: (session, ctx, input) => commitSession(opts, session, ctx, input),
    destroy,
    ...endingOperations(opts, destroy),
    reload: (session, ctx) => reloadSession(opts, session, ctx),
    login: (session, data, userId, ctx, loginOpts) =>
      loginSession(opts, session, data, userId, ctx, loginOpts),
    reauthenticate: (session, ctx, reauthOpts) =>
      reauthenticateSession(opts, session, ctx, reauthOpts),
    update: (session, fn, ctx) => updateSession(opts, session, fn, ctx),
    authAge: (session) => authAge(session, opts.clock.now()),
    csrfAnchor,
    close: async function close() {
      if (opts.ownsStore) await opts.store.close?.()
    },
    ...createUserSessions(opts, notBefore),
  }
}
