import type { VerifyFailure } from '../codec/token.js'
import type { EventContext } from '../events/types.js'
import type { SessionRecord, StoredCookie } from '../stores/types.js'
import type { DataSnapshot } from './diff.js'
import type { ResolvedOptions } from './options.js'
import type { UserSessions } from './user-sessions.js'

/** Types of the session manager's API, shared by the manager and every adapter. */

/** What an adapter tells the manager about one request. */
export interface RequestContext extends EventContext {
  /** The session cookie's raw value; absent or undefined when the request has none. */
  token?: string | undefined
}

/** A session during one request. Adapters hold it; only the manager changes `record`. */
export interface SessionState {
  id: string
  /** Store key and public reference: a hash of the id. */
  ref: string
  record: SessionRecord
  /** Not yet in the store. */
  isNew: boolean
  /** Per-key JSON of `record.data` as last loaded or written. */
  snapshot: DataSnapshot | null
  /** The cookie must be (re)sent: new id, or signed with a key that no longer signs. */
  needsCookie: boolean
  /** Used from another context than its login's under `binding: 'step-up'`: authentication is stale. */
  stepUpRequired?: boolean
  /** First request with the id a renewal issued: the commit records that it reached its holder. */
  confirmRenewal?: boolean
}

export type LoadOutcome =
  | { session: SessionState; rejected?: undefined }
  | {
      session: null
      rejected:
        | 'none'
        | VerifyFailure
        | 'expired_idle'
        | 'not_found'
        | 'store_error'
        | 'binding'
        | 'reuse'
        /** Created before the mark of `revokeAllSessions()`. */
        | 'revoked'
      /** Set when the request must be refused with 429 (too many invalid cookies from its address). */
      retryAfterS?: number
    }

export interface CommitInput {
  /** The application's view of the data (top-level keys are diffed against the snapshot). */
  data: Record<string, unknown>
  /** Per-session cookie attributes to persist; undefined leaves them unchanged. */
  cookie?: StoredCookie | undefined
  /** Write even if nothing changed (express-session `resave`). */
  force?: boolean
  /** Persist a new session even if it holds no data (express-session `saveUninitialized`). */
  saveNew?: boolean
  /** When the cookie being sent expires (epoch ms), if it has an expiry: the server never keeps the session longer. */
  cookieExpiresAt?: number | null
}

/** created: first write; updated: data or cookie changed; resaved: forced write of unchanged data;
 * touched: idle expiry extended; none: nothing written; gone: the session vanished from the store meanwhile. */
export type CommitOutcome = 'created' | 'updated' | 'resaved' | 'touched' | 'none' | 'gone'

/** Framework-free session manager: adapters call `load` at the start of a request, `commit` before headers. */
export interface SessionManager extends UserSessions {
  readonly options: ResolvedOptions
  load(ctx: RequestContext): Promise<LoadOutcome>
  /** A new, not yet stored, anonymous session. */
  create(ctx: EventContext, id?: string): SessionState
  /** The cookie value for a session. */
  token(session: SessionState): string
  commit(session: SessionState, ctx: EventContext, input: CommitInput): Promise<CommitOutcome>
  destroy(session: SessionState, ctx: EventContext): Promise<void>
  /** Re-reads the session from the store; null when it is gone. */
  reload(session: SessionState, ctx: EventContext): Promise<SessionState | null>
  /** New id, same data, `authAt` = now, indexed under `userId`. The old record is removed. */
  login(
    session: SessionState,
    data: Record<string, unknown>,
    userId: string,
    ctx: EventContext,
    opts?: { class?: string; id?: string },
  ): Promise<SessionState>
  /**
   * Records that the user just proved who they are again (step-up): a new id (`opts.id`, or a
   * random one), the old one ended, data, user, class and creation time kept, `authAt` = now,
   * bound to this context. Persisted at once. Refused for an anonymous session.
   */
  reauthenticate(
    session: SessionState,
    ctx: EventContext,
    opts?: { id?: string },
  ): Promise<SessionState>
  /** Atomic read-modify-write of the data, retried on a version conflict. */
  update(
    session: SessionState,
    fn: (
      data: Record<string, unknown>,
    ) => void | Record<string, unknown> | Promise<void | Record<string, unknown>>,
    ctx: EventContext,
  ): Promise<SessionState>
  /** Releases what the manager owns (its default MemoryStore's timer). */
  close: () => Promise<void>
}
