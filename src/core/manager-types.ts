import type { VerifyFailure } from '../codec/token.js'
import type { EventContext } from '../events/types.js'
import type { SessionRecord, StoredCookie } from '../stores/types.js'
import type { DataSnapshot } from './diff.js'
import type { ResolvedOptions } from './options.js'

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
  /**
   * Sealed mode: the per-user "not before" mark this session was kept through
   * (`revokeUserSessions(userId, { except })`); sealed into its token.
   */
  keptThrough?: number
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
  /**
   * The cookie's name, '' for a header token: sealed mode refuses a session whose name=value
   * would pass 4,096 bytes. @default '__Host-sid'
   */
  cookieName?: string
}

/** created: first write; updated: data or cookie changed; resaved: forced write of unchanged data;
 * touched: idle expiry extended; none: nothing written; gone: the session vanished from the store meanwhile. */
export type CommitOutcome = 'created' | 'updated' | 'resaved' | 'touched' | 'none' | 'gone'

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
  /**
   * Live sessions of `userId`, oldest first. Pass the current ref to mark it `current`.
   * `TETHER_NOT_SUPPORTED` with `store: 'sealed'` (no record of live sessions exists).
   */
  listUserSessions: (userId: string, opts?: { current?: string }) => Promise<UserSessionInfo[]>
  /**
   * Ends one session. With `userId`, only if the session belongs to that user, so a request
   * cannot revoke another user's session by guessing a ref. Returns whether one was removed.
   * With `store: 'sealed'` the ref is marked ended (true for any well-formed ref), and `userId`
   * is refused with `TETHER_NOT_SUPPORTED`: there is no record to check the owner against.
   */
  revokeSession: (ref: string, opts?: { userId?: string }) => Promise<boolean>
  /**
   * Ends every session of `userId`, except the one with ref `except`. Returns how many ended;
   * with `store: 'sealed'` 0, since sealed sessions are not counted anywhere (they end all the same).
   */
  revokeUserSessions: (userId: string, opts?: { except?: string }) => Promise<number>
  /**
   * Ends every session of every user, without a restart or a new secret: sessions created before
   * now are refused from their next request on (`session.revoked`, reason `all`), on this process
   * at once and on others within `revocationCheckInterval`. Emits `session.revoked_all`. Returns
   * the instant sessions must be created at or after. `TETHER_NOT_SUPPORTED` on a store without
   * "not before" marks (a wrapped express-session store).
   */
  revokeAllSessions: () => Promise<number>
}

/** Framework-free session manager: adapters call `load` at the start of a request, `commit` before headers. */
export interface SessionManager extends UserSessions {
  readonly options: ResolvedOptions
  load(ctx: RequestContext): Promise<LoadOutcome>
  /** A new, not yet stored, anonymous session. */
  create(ctx: EventContext, id?: string): SessionState
  /** The cookie value for a session. */
  token(session: SessionState): string
  commit(session: SessionState, ctx: EventContext, input: CommitInput): Promise<CommitOutcome>
  /** Ends the session in the store (with every renewal marker leading to it); emits `session.destroyed`. */
  destroy(session: SessionState, ctx: EventContext): Promise<void>
  /**
   * express-session's `regenerate`: ends the session and returns a new, empty, not yet stored one
   * (under `id`, or a random one); emits `session.regenerated`.
   */
  regenerate(session: SessionState, ctx: EventContext, id?: string): Promise<SessionState>
  /** Ends the session; the request goes on with the returned new, empty, anonymous one. */
  logout(session: SessionState, ctx: EventContext, id?: string): Promise<SessionState>
  /**
   * Milliseconds since the user last proved who they are (login or re-authentication), or null:
   * anonymous, or used from another context under `binding: 'step-up'` until re-authenticated.
   */
  authAge(session: SessionState): number | null
  /** What the session's CSRF token is tied to: login, logout and regenerate change it; renewal keeps it. */
  csrfAnchor(session: SessionState): string
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
  /**
   * Atomic read-modify-write of the data, retried on a version conflict. `TETHER_NOT_SUPPORTED`
   * with `store: 'sealed'`.
   */
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
