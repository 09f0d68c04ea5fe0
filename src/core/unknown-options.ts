/**
 * Unknown options: Tether ignores an option it does not know, so a typo in a security setting
 * (`idleTimout`) would silently keep the default. Each one gets a warning at startup naming the
 * closest known option. Each layer lists its options once (`MANAGER_OPTIONS`, the Express
 * adapter's `EXPRESS_OPTIONS`), checked against its options type by the compiler.
 */

/** Option names: `satisfies Record<keyof Options, true>` makes a forgotten option fail to compile. */
export type OptionNames = Readonly<Record<string, true>>

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution))
    }
    previous = row
  }
  return previous[b.length]!
}

/** The known name `name` is most likely a typo of: within a third of its length, case ignored. */
function closest(name: string, known: OptionNames): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1
  for (const candidate of Object.keys(known)) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance]
  }
  return best
}

/** One `TETHER_UNKNOWN_OPTION` warning per key of `options` not in `known`; called at startup. */
export function warnUnknownOptions(options: object, known: OptionNames, prefix = ''): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue
    const near = closest(key, known)
    const hint = near === undefined ? '' : `; did you mean ${JSON.stringify(prefix + near)}?`
    process.emitWarning(
      `tether-session: unknown option ${JSON.stringify(prefix + key)} is ignored${hint}`,
      { code: 'TETHER_UNKNOWN_OPTION' },
    )
  }
}
