import type { EventContext } from '../events/types.js'
import type { SessionRecord } from '../stores/types.js'
import { ipPrefix } from './ip-prefix.js'

/**
 * What happens when a logged-in session is used from another context than the one it logged in
 * from (another user agent, or another /24 or /48 network):
 * - `'log'`: an event only (mobile users change networks all the time, so this is the default);
 * - `'step-up'`: the session stays, but `authAge` reads null until `reauthenticated()`, so routes
 *   behind `requireFreshAuth` ask for the password again;
 * - `'revoke'`: the session ends.
 */
export type BindingPolicy = 'log' | 'step-up' | 'revoke'

const UA_MAX = 256

/** The context recorded at login: user agent (truncated) and IP prefix, never the full address. */
export function contextMeta(ctx: EventContext): SessionRecord['meta'] {
  const meta: SessionRecord['meta'] = {}
  if (ctx.userAgent !== undefined) meta.ua = ctx.userAgent.slice(0, UA_MAX)
  const prefix = ipPrefix(ctx.ip)
  if (prefix !== undefined) meta.ipPrefix = prefix
  return meta
}

/** `'ua'`, `'ip'` or `'ua+ip'` when the request's context differs from the recorded one, else null. */
export function bindingMismatch(meta: SessionRecord['meta'], ctx: EventContext): string | null {
  const now = contextMeta(ctx)
  const ua = meta.ua !== undefined && now.ua !== meta.ua
  const ip = meta.ipPrefix !== undefined && now.ipPrefix !== meta.ipPrefix
  if (ua && ip) return 'ua+ip'
  return ua ? 'ua' : ip ? 'ip' : null
}
