/** `npm run bench -- [flags]` (bench/lib/args.ts): the flags that take numbers, at their edges. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseBenchArgs } from '../../bench/lib/args.js'

describe('bench flags', () => {
  it('takes --rounds 0 (judge by medians) and any whole number, and leaves it unset by default', () => {
    assert.equal(parseBenchArgs([]).rounds, null)
    assert.equal(parseBenchArgs(['--rounds', '0']).rounds, 0)
    assert.equal(parseBenchArgs(['--check', '--rounds', '8']).rounds, 8)
  })

  it('refuses a --rounds that is negative, fractional or not a number, naming the flag', () => {
    for (const bad of ['-1', '2.5', 'many', '', ' ']) {
      assert.throws(() => parseBenchArgs([`--rounds=${bad}`]), /--rounds must be a whole number/)
    }
  })

  it('refuses a zero or negative --reps and an unknown flag', () => {
    assert.throws(() => parseBenchArgs(['--reps', '0']), /--reps must be a positive number/)
    assert.throws(() => parseBenchArgs(['--paired']), /Unknown option/)
  })
})
