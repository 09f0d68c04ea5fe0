import type { SessionStore } from '../../src/stores/types.js'

export type StoreMethod =
  'get' | 'create' | 'update' | 'touch' | 'destroy' | 'listByUser' | 'destroyByUser'

/** Wraps a store and counts calls per method, so "no store I/O" is an assertion. */
export function spyStore(
  inner: SessionStore,
): SessionStore & { calls: Record<StoreMethod, number>; total(): number; failing: boolean } {
  const calls: Record<StoreMethod, number> = {
    get: 0,
    create: 0,
    update: 0,
    touch: 0,
    destroy: 0,
    listByUser: 0,
    destroyByUser: 0,
  }
  const spy = {
    tetherStore: 1 as const,
    calls,
    failing: false,
    total() {
      return Object.values(calls).reduce((a, b) => a + b, 0)
    },
  } as SessionStore & { calls: Record<StoreMethod, number>; total(): number; failing: boolean }
  for (const name of Object.keys(calls) as StoreMethod[]) {
    ;(spy as unknown as Record<string, unknown>)[name] = async function counted(
      ...args: unknown[]
    ) {
      calls[name]++
      if (spy.failing) throw new Error('store is down (test)')
      return (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args)
    }
  }
  return spy
}
