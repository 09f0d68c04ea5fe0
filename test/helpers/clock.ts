/** A clock tests move by hand: no sleeps, no patched timers. */
export interface ManualClock {
  t: number
  now(): number
  advance(ms: number): void
}

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  return {
    t: start,
    now() {
      return this.t
    },
    advance(ms: number) {
      this.t += ms
    },
  }
}
