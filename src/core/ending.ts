import type { EventContext } from '../events/types.js'
import { createState } from './commit.js'
import type { SessionManager, SessionState } from './manager-types.js'
import type { ResolvedOptions } from './options.js'

/** `regenerate` and `logout` over a manager's `destroy`: the session ends, a new empty one follows. */
export function endingOperations(
  opts: ResolvedOptions,
  destroy: (session: SessionState, ctx: EventContext) => Promise<void>,
): Pick<SessionManager, 'regenerate' | 'logout'> {
  return {
    regenerate: async function regenerate(session, ctx, id) {
      await destroy(session, ctx)
      const fresh = createState(opts, id)
      opts.emit('session.regenerated', ctx, { ref: fresh.ref })
      return fresh
    },
    logout: async function logout(session, ctx, id) {
      await destroy(session, ctx)
      return createState(opts, id)
    },
  }
}
