/** Clock injected into stores and the manager; tests advance it instead of sleeping. */
export interface Clock {
  now(): number
}

/** The real clock: `Date.now`. */
export const systemClock: Clock = Object.freeze({ now: Date.now })
