/**
 * The targets of issue 12 ("Targets") and issue 14 point 6, judged on one run's summaries:
 * ratios of median req/s between cases of the same run, store commands and round trips per
 * request, p99 against the peer. A target is judged only where the steal of its cases is under
 * 25 %; one whose cases did not run is "not measured". Neither counts as a failure.
 */
import type { CaseSummary } from './report.js'
import { checks } from './target-list.js'

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

/** Judges every target on `summaries`. */
export function judge(summaries: CaseSummary[]): TargetResult[] {
  const byName: Lookup = (name) => summaries.find((s) => s.name === name)
  return checks().map((check) => {
    const found = check.cases.map(byName)
    const base = { id: check.id, what: check.what, wanted: check.wanted }
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
    const { value, ok, digits, suffix } = check.judge(cases)
    const measured = format(value, digits, suffix)
    const steal = Math.max(...cases.map((c) => c.stealPct.median))
    if (steal >= MAX_STEAL_PCT) {
      return { ...base, measured, verdict: 'NOT JUDGED', note: `steal ${steal.toFixed(0)} %` }
    }
    const verdict = ok && Number.isFinite(value) ? 'PASS' : 'FAIL'
    const other = Math.max(...cases.map((c) => c.otherLoadPct.median))
    // Not a reason to skip the verdict (the issue judges by steal), but worth reading beside it.
    const note = other >= 25 ? `other processes took ${other.toFixed(0)} % of CPU 0` : undefined
    return { ...base, measured, verdict, ...(note === undefined ? {} : { note }) }
  })
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
