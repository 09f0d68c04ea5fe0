/**
 * `--memory`: runs bench/memory/child.ts in its own process with --expose-gc and judges the
 * target of issue 12: under 1 KB of heap per small session at 100,000 sessions, and a flat heap:
 * no growth from a first round of eviction (100,000 more sessions evicting as many) to a second,
 * and back to the empty store's once they expire and are swept. The one-time step from the full
 * store to the first round of eviction is printed, not judged.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Verdict } from '../lib/targets.js'

export interface MemoryResult {
  sessions: number
  baseBytes: number
  fullBytes: number
  afterEvictionBytes: number
  afterSecondEvictionBytes: number
  afterSweepBytes: number
  bytesPerSession: number
}

export interface MemoryVerdicts {
  perSession: Verdict
  flatAfterEviction: Verdict
  flatAfterSweep: Verdict
}

export async function measureMemory(sessions = 100_000): Promise<MemoryResult> {
  const child = fileURLToPath(new URL('./child.ts', import.meta.url))
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', child],
    {
      env: {
        ...process.env,
        BENCH_SESSIONS: String(sessions),
        BENCH_SECRET: randomBytes(32).toString('base64url'),
      },
      timeout: 120_000,
    },
  )
  return JSON.parse(stdout.trim().split('\n').pop()!) as MemoryResult
}

/** Growth kept within 5 % of what the sessions took, plus 1 MiB of allocator noise. */
function flat(after: number, reference: number, sessionsBytes: number): Verdict {
  return after <= reference + 0.05 * sessionsBytes + 2 ** 20 ? 'PASS' : 'FAIL'
}

export function judgeMemory(r: MemoryResult): MemoryVerdicts {
  const used = r.fullBytes - r.baseBytes
  return {
    perSession: r.bytesPerSession < 1024 ? 'PASS' : 'FAIL',
    flatAfterEviction: flat(r.afterSecondEvictionBytes, r.afterEvictionBytes, used),
    flatAfterSweep: flat(r.afterSweepBytes, r.baseBytes, used),
  }
}

export function memoryReport(r: MemoryResult, v: MemoryVerdicts): string {
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
  return [
    `MemoryStore, ${r.sessions.toLocaleString('en')} small sessions through the manager:`,
    `  ${v.perSession.padEnd(4)}  ${r.bytesPerSession.toFixed(0)} bytes of heap per session (< 1024)`,
    `  ${v.flatAfterEviction.padEnd(4)}  heap ${mb(r.afterSecondEvictionBytes)} after a second round of ` +
      `eviction, ${mb(r.afterEvictionBytes)} after the first (full store: ${mb(r.fullBytes)})`,
    `  ${v.flatAfterSweep.padEnd(4)}  heap ${mb(r.afterSweepBytes)} once they expired and were swept (empty: ${mb(r.baseBytes)})`,
  ].join('\n')
}
