import type { SessionState } from '../core/manager-types.js'

/** A read-modify-write function of `update()`: mutate `data` or return a new object. */
export type UpdateFn = (
  data: Record<string, unknown>,
) => void | Record<string, unknown> | Promise<void | Record<string, unknown>>

/**
 * What a session object reaches through its link to the request (the engine's `RequestSession`):
 * the request's session state and the lifecycle operations, each applied to the session object
 * the request holds now.
 */
export interface SessionHandle {
  readonly session: SessionState
  /** The framework's request, as the adapter passed it. */
  readonly native: unknown
  /** Where the adapter's response headers go. */
  readonly out: unknown
  /** Milliseconds since the user last authenticated, or null. */
  authAge(): number | null
  /** The signed token (cookie value) of the session. */
  token(): string
  csrfToken(): string
  save(): Promise<void>
  reload(): Promise<void>
  destroy(): Promise<void>
  regenerate(): Promise<void>
  login(userId: string, opts: { class?: string }): Promise<void>
  logout(opts: { clearSiteData?: boolean }): Promise<void>
  reauthenticated(): Promise<void>
  update(fn: UpdateFn): Promise<void>
  /** Commits the session before the response's headers; runs once. */
  finish(): Promise<void>
}
