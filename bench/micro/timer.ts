/**
 * A small timer for micro-benchmarks: calibrates a batch to about 20 ms, runs warm-up batches,
 * then reports the median ns per operation over measured batches.
 */
import { median } from '../lib/stats.js'

export interface Timed {
  name: string
  nsPerOp: number
  /** Fastest and slowest batch, ns per operation. */
  minNs: number
  maxNs: number
}

const BATCH_NS = 20_000_000

async function batch(fn: () => unknown, n: number, isAsync: boolean): Promise<number> {
  const start = process.hrtime.bigint()
  if (isAsync) for (let i = 0; i < n; i++) await fn()
  else for (let i = 0; i < n; i++) fn()
  return Number(process.hrtime.bigint() - start)
}

export async function time(
  name: string,
  fn: () => unknown,
  { batches = 15, isAsync = false } = {},
): Promise<Timed> {
  let n = 1
  while ((await batch(fn, n, isAsync)) < BATCH_NS / 10 && n < 1e8) n *= 2
  n = Math.max(1, n * 10)
  for (let i = 0; i < 3; i++) await batch(fn, n, isAsync)
  const perOp: number[] = []
  for (let i = 0; i < batches; i++) perOp.push((await batch(fn, n, isAsync)) / n)
  return { name, nsPerOp: median(perOp), minNs: Math.min(...perOp), maxNs: Math.max(...perOp) }
}
