/** Fixtures shared by the store conformance cases (test/stores/conformance.ts). */
import type { Clock } from '../../src/clock.js'
import type { TestContext } from 'node:test'
import { applyPatch } from '../../src/stores/types.js'
import type { SessionPatch, SessionRecord, SessionStore } from '../../src/stores/types.js'

/** Start of every fixture clock, epoch ms. */
export const T0 = 1_700_000_000_000
/** Idle timeout of {@link makeRecord} records, ms. */
export const IDLE_MS = 30 * 60_000
const ABSOLUTE_MS = 8 * 60 * 60_000

/** A clock the test moves by assigning `t`. */
export interface ManualClock extends Clock {
  t: number
}

/** A valid record created at `overrides.createdAt` (default {@link T0}), live for {@link IDLE_MS}. */
export function makeRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const createdAt = overrides.createdAt ?? T0
  return {
    v: 1,
    data: {},
    createdAt,
    lastSeenAt: createdAt,
    idleExpiresAt: createdAt + IDLE_MS,
    absoluteExpiresAt: createdAt + ABSOLUTE_MS,
    sessionClass: 'default',
    meta: {},
    ...overrides,
  }
}

/** A patch against `base`, as the manager computes it; `next` is `base` with the change applied. */
export function makePatch(
  base: SessionRecord,
  change: Partial<Omit<SessionPatch, 'next'>> = {},
): SessionPatch {
  const patch: SessionPatch = {
    set: change.set ?? {},
    unset: change.unset ?? [],
    fields: change.fields ?? {},
    times: change.times ?? { lastSeenAt: base.lastSeenAt, idleExpiresAt: base.idleExpiresAt },
    next: base,
  }
  return { ...patch, next: applyPatch(base, patch) }
}

/** What a conformance test gets: the store, its clock, and names unique to the test. */
export interface Fixture {
  store: SessionStore
  clock: ManualClock
  /** A store key unique to this test. */
  key: (name: string) => string
  /** A user id unique to this test. */
  user: (name: string) => string
}

/** Builds a fresh {@link Fixture} for one test and closes its store after it. */
export type MakeFixture = (t: TestContext) => Promise<Fixture>

/** Keys that `listByUser` returns, in its order. */
export async function listedKeys(store: SessionStore, userId: string): Promise<string[]> {
  const keys: string[] = []
  for (const entry of await store.listByUser(userId)) keys.push(entry.key)
  return keys
}
