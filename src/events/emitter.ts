import type { Clock } from '../clock.js'
import type { EventContext, EventListener, TetherEvent, TetherEventType } from './types.js'
import { unmapIPv4 } from '../core/unmap-ipv4.js'

/** Emits one event; does nothing when no listener is configured. */
export type Emit = (
  type: TetherEventType,
  ctx: EventContext | undefined,
  extra?: { reason?: string; ref?: string; userId?: string | undefined },
) => void

/** Builds the emitter once at startup; with no listener it is a no-op function. */
export function createEmitter(listener: EventListener | undefined, clock: Clock): Emit {
  if (listener === undefined) return function emitNothing() {}
  let warned = false
  return function emit(type, ctx, extra) {
    const event: TetherEvent = { time: clock.now(), type }
    if (extra?.reason !== undefined) event.reason = extra.reason
    if (extra?.ref !== undefined) event.ref = extra.ref
    if (extra?.userId !== undefined) event.userId = extra.userId
    // An IPv4 client on a dual-stack listener is reported as IPv4, as everywhere else.
    if (ctx?.ip !== undefined) event.ip = unmapIPv4(ctx.ip)
    if (ctx?.userAgent !== undefined) event.userAgent = ctx.userAgent
    if (ctx?.path !== undefined) event.path = ctx.path
    try {
      listener(event)
    } catch (err) {
      // A broken logger must not turn into a broken request.
      if (!warned) {
        warned = true
        process.emitWarning(`tether-session: onEvent threw: ${String(err)}`, {
          code: 'TETHER_EVENT_LISTENER',
        })
      }
    }
  }
}
