/**
 * The targets of issue 12 ("Targets") and issue 14 point 6, judged on one run's summaries:
 * ratios of median req/s between cases of the same run, store commands and round trips per
 * request, p99 against the peer. A target of two cases against each other is judged from their
 * paired windows when the run measured them (pairs.ts; the suite's own ratio is kept in the
 * note), else from the suite's medians. A target is judged only where the steal of its cases is
 * under 25 %; one whose cases did not run is "not measured". Neither counts as a failure.
 */
import type { PairSummary } from './pairs.js'
import type { CaseSummary } from './report.js'
import { checks, type Check, type Reading } from './target-list.js'

export type Verdict = 'PASS' | 'FAIL' | 'NOT MEASURED' | 'NOT JUDGED'

export interface TargetResult {
  id: string
  what: string
  /** The measured value, as printed (a ratio, a count). */
  measured: string
  wanted: string
  verdict: Verdict
  note?: string
}

export const MAX_STEAL_PCT = 25

type Lookup = (name: string) => CaseSummary | undefined

function format(value: number, digits = 2, suffix = ''): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)}${suffix}` : 'n/a'
}

/** Judges every target on `summaries`, and on `pairs` where a target's two cases were paired. */
export function judge(
  summaries: CaseSummary[],
  pairs: readonly PairSummary[] = [],
): TargetResult[] {
  const byName: Lookup = (name) => summaries.find((s) => s.name === name)
  return checks().map((check) => {
    const base = { id: check.id, what: check.what, wanted: check.wanted }
    const paired = pairOf(check, pairs)
    if (paired !== undefined) return judgePaired(check, paired, base, byName)
    const found = check.cases.map(byName)
    const missing = check.cases.filter((_, i) => found[i] === undefined)
    if (missing.length > 0) {
      return {
        ...base,
        measured: '',
        verdict: 'NOT MEASURED',
        note: `not run: ${missing.join(', ')}`,
      }
    }
    const cases = found as CaseSummary[]
    const reading = check.judge(cases)
    const measured = format(reading.value, reading.digits, reading.suffix)
    const steal = Math.max(...cases.map((c) => c.stealPct.median))
    if (steal >= MAX_STEAL_PCT) {
      return { ...base, measured, verdict: 'NOT JUDGED', note: `steal ${steal.toFixed(0)} %` }
    }
    const other = Math.max(...cases.map((c) => c.otherLoadPct.median))
    // Not a reason to skip the verdict (the issue judges by steal), but worth reading beside it.
    const note = other >= 25 ? `other processes took ${other.toFixed(0)} % of CPU 0` : undefined
    return {
      ...base,
      measured,
      verdict: verdictOf(reading),
      ...(note === undefined ? {} : { note }),
    }
  })
}

function pairOf(check: Check, pairs: readonly PairSummary[]): PairSummary | undefined {
  if (check.judgePaired === undefined) return undefined
  return pairs.find((p) => p.a === check.cases[0] && p.b === check.cases[1] && p.rounds > 0)
}

function verdictOf(reading: Reading): Verdict {
  return reading.ok && Number.isFinite(reading.value) ? 'PASS' : 'FAIL'
}

function judgePaired(
  check: Check,
  pair: PairSummary,
  base: Pick<TargetResult, 'id' | 'what' | 'wanted'>,
  byName: Lookup,
): TargetResult {
  const reading = check.judgePaired!(pair)
  const measured = format(reading.value, reading.digits, reading.suffix)
  const found = check.cases.map(byName).filter((c) => c !== undefined)
  let sequential = ''
  if (found.length === check.cases.length) {
    const r = check.judge(found)
    sequential = `; suite: ${format(r.value, r.digits, r.suffix)}`
  }
  const note = `paired, ${pair.rounds} rounds${sequential}`
  if (pair.stealPct >= MAX_STEAL_PCT) {
    return {
      ...base,
      measured,
      verdict: 'NOT JUDGED',
      note: `steal ${pair.stealPct.toFixed(0)} %; ${note}`,
    }
  }
  return { ...base, measured, verdict: verdictOf(reading), note }
}

export function targetTable(results: TargetResult[]): string {
  const rows = results.map((r) => [
    r.verdict,
    r.id,
    r.measured,
    r.wanted,
    r.what + (r.note ? ` (${r.note})` : ''),
  ])
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  const lines = rows.map((r) =>
    r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  '),
  )
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length
  lines.push(
    `${count('PASS')} passed, ${count('FAIL')} failed, ${count('NOT MEASURED')} not measured, ${count('NOT JUDGED')} not judged (steal ≥ ${MAX_STEAL_PCT} %)`,
  )
  return lines.join('\n')
}
