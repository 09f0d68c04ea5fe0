/**
 * The memory test's child (run with --expose-gc by bench/memory/run.ts): MemoryStore with
 * `SESSIONS` small sessions written through the manager, the heap per session, the heap after as
 * many again have evicted them and after as many again once more (the bound), and the heap after
 * they expired and were swept.
 * Prints one JSON line.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessionManager, MemoryStore } from 'tether-session'

const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 100_000)
const USER = { id: 'u1', name: 'Alice Example', role: 'member' }

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

function heap(): number {
  for (let i = 0; i < 3; i++) gc!()
  return process.memoryUsage().heapUsed
}

let now = Date.now()
const clock = { now: () => now }
const store = new MemoryStore({ maxEntries: SESSIONS, sweepIntervalMs: 20, clock })
const manager = createSessionManager({ secret: process.env['BENCH_SECRET']!, store, clock })
const ctx = { ip: '127.0.0.1', userAgent: 'bench', path: '/' }

async function fill(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const session = manager.create(ctx)
    await manager.commit(session, ctx, { data: { user: USER, n: i } })
  }
}

async function main(): Promise<void> {
  await fill(100) // warm every code path before the baseline
  const base = heap()
  await fill(SESSIONS)
  const full = heap()
  // As many again, twice: each one evicts the least recently used; the store stays at SESSIONS.
  await fill(SESSIONS)
  const afterEviction = heap()
  await fill(SESSIONS)
  const afterSecondEviction = heap()
  // Past every idle timeout: the sweep removes them all.
  now += 24 * 3600_000
  await sleep(200)
  const afterSweep = heap()
  await manager.close()
  await store.close()
  console.log(
    JSON.stringify({
      sessions: SESSIONS,
      baseBytes: base,
      fullBytes: full,
      afterEvictionBytes: afterEviction,
      afterSecondEvictionBytes: afterSecondEviction,
      afterSweepBytes: afterSweep,
      bytesPerSession: (full - base) / SESSIONS,
    }),
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
