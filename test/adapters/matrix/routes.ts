/**
 * The one set of routes every adapter's test app serves, written once against the session API
 * that all adapters share. Each framework's app (apps.ts) only maps its request and response.
 */
import type { SessionObject } from '../../../src/http/session-object.js'

/** What a route does with the session; the result is sent as JSON. */
export type Action = (session: SessionObject, query: URLSearchParams) => unknown

type Data = Record<string, unknown>

function dataOf(session: SessionObject): Data {
  const out: Data = {}
  for (const key of Object.keys(session)) if (key !== 'cookie') out[key] = (session as never)[key]
  return out
}

/** `METHOD path` → action. `/csrf` is served by each app (it needs the framework's request). */
export const ROUTES: Record<string, Action> = {
  'GET /noop': () => ({ ok: true }),
  'GET /read': (s) => ({ data: dataOf(s), authAge: s.authAge }),
  'POST /write': (s, q) => {
    ;(s as unknown as Data)[q.get('key') ?? 'k'] = q.get('value') ?? 'v'
    return { ok: true }
  },
  'POST /login': async (s, q) => {
    await s.login(q.get('user') ?? 'alice')
    return { ok: true }
  },
  'POST /logout': async (s) => {
    await s.logout()
    return { ok: true }
  },
  'POST /destroy': async (s) => {
    await s.destroy()
    return { ok: true }
  },
  'POST /regenerate': async (s) => {
    await s.regenerate()
    return { ok: true }
  },
  'POST /count': async (s, q) => {
    const key = q.get('key') ?? 'n'
    await s.update((d) => {
      d[key] = ((d[key] as number | undefined) ?? 0) + 1
    })
    return { n: (s as unknown as Data)[key] }
  },
  'POST /cart': (s) => {
    ;(s as unknown as Data)['cart'] = { items: ['book'] }
    return { ok: true }
  },
  'POST /undo': (s) => {
    const data = s as unknown as Data
    const cart = data['cart'] as { items: string[] }
    const backup = structuredClone(cart)
    // An edit made in place, then undone by putting the copy back; and another change.
    cart.items.push('rejected')
    data['cart'] = backup
    data['page'] = '/cart'
    return { ok: true }
  },
  'POST /set-then-count': async (s) => {
    ;(s as unknown as Data)['theme'] = 'dark'
    await s.update((d) => {
      d['n'] = ((d['n'] as number | undefined) ?? 0) + 1
    })
    return { ok: true }
  },
  'POST /big': (s) => {
    ;(s as unknown as Data)['big'] = 'x'.repeat(2048)
    return { ok: true, padding: 'y'.repeat(4096) }
  },
}
