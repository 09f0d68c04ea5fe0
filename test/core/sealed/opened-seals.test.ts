/**
 * The sealed tokens a manager keeps opened (src/core/sealed/opened-seals.ts): whatever it kept or
 * was told it sealed, `open` must answer exactly as `openSeal` + `decodePayload` would, for valid,
 * tampered, truncated, foreign and random tokens, in any order and at any capacity; bounded by
 * count and by characters; and what it hands out is frozen, since the next request shares it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateSessionId, sessionRef } from '../../../src/codec/ids.js'
import { openSeal, seal } from '../../../src/codec/seal.js'
import { createState } from '../../../src/core/commit.js'
import { snapshotData } from '../../../src/core/diff.js'
import { createSessionManager } from '../../../src/core/manager.js'
import type { ClassPolicy, ResolvedOptions } from '../../../src/core/options.js'
import {
  createOpenedSeals,
  KEPT_SEAL_CHARS,
  type OpenedResult,
} from '../../../src/core/sealed/opened-seals.js'
import { decodePayload, encodePayload } from '../../../src/core/sealed/payload.js'
import { MemoryStore } from '../../../src/stores/memory.js'
import { countKeyLookups } from '../../helpers/counting-keys.js'
import { tamper } from '../../helpers/tamper.js'
import { tokenVariants } from '../../helpers/token-variants.js'
import { newSecret } from '../../helpers/secrets.js'

function sealedOptions(): ResolvedOptions {
  const manager = createSessionManager({
    secret: newSecret(),
    store: 'sealed',
    revocationStore: new MemoryStore(),
  })
  return manager.options
}

const opts = sealedOptions()
const foreign = sealedOptions()

/** The keyring and class lookup of `opts`, counting key lookups (one per decryption) and class lookups (one per decode). */
function counting(options = opts) {
  let classLookups = 0
  const keys = new Map(options.keys)
  const keyLookups = countKeyLookups(keys)
  const classOf = (name: string): ClassPolicy | undefined => {
    classLookups++
    return options.classes.get(name)
  }
  return { keys, classOf, keyLookups, classLookups: () => classLookups }
}

const classOf = (name: string) => opts.classes.get(name)

/** A sealed session holding `data`: its token and the payload sealed in it. */
function sealed(data: Record<string, unknown> = { n: 1 }, options = opts) {
  const id = generateSessionId()
  const state = createState(options, id)
  const payload = encodePayload(id, sessionRef(id), { ...state.record, data }, undefined)
  const key = options.classes.get('default')!.signing
  return { token: seal(key, payload), payload, key }
}

/** What opening `token` must give: `openSeal` then `decodePayload`, as before anything was kept. */
function reference(token: string): OpenedResult {
  const opened = openSeal(token, opts.keys)
  if (!opened.ok) return opened
  const unsealed = decodePayload(opened.payload.toString('utf8'), classOf)
  if (unsealed === null) return { ok: false, reason: 'malformed' }
  return { ok: true, key: opened.key, unsealed, snapshot: snapshotData(unsealed.record.data) }
}

function assertSame(got: OpenedResult, want: OpenedResult, label: string): void {
  if (!want.ok) return assert.deepEqual(got, want, label)
  assert.ok(got.ok, label)
  assert.equal(got.key, want.key, label)
  assert.deepEqual(
    { ...got.unsealed, record: { ...got.unsealed.record, data: { ...got.unsealed.record.data } } },
    {
      ...want.unsealed,
      record: { ...want.unsealed.record, data: { ...want.unsealed.record.data } },
    },
    label,
  )
  assert.deepEqual(got.snapshot, want.snapshot, label)
}

describe('createOpenedSeals', () => {
  it('opens a token once, then answers it from what it kept', () => {
    const c = counting()
    const seals = createOpenedSeals(c.keys, c.classOf)
    const { token } = sealed({ user: { id: 'u1' }, n: 3 })
    const first = seals.open(token)
    assertSame(first, reference(token), 'first')
    assert.equal(c.keyLookups(), 1)
    assert.equal(seals.open(token), first)
    assert.equal(c.keyLookups(), 1, 'no second decryption for the same token')
    assert.equal(c.classLookups(), 1, 'no second decoding')
  })

  it('answers a token it sealed without decrypting it, and decodes it only once it is sent', () => {
    const c = counting()
    const seals = createOpenedSeals(c.keys, c.classOf)
    const { token, payload, key } = sealed({ n: 7 })
    seals.remember(token, key, payload)
    assert.equal(c.classLookups(), 0, 'a token sealed and never sent back costs no decoding')
    assertSame(seals.open(token), reference(token), 'remembered')
    assert.equal(c.keyLookups(), 0)
    assert.equal(c.classLookups(), 1)
  })

  it('hands out a frozen session: a request that changed it would change the next one', () => {
    const seals = createOpenedSeals(opts.keys, classOf)
    const opened = seals.open(sealed({ n: 1 }).token)
    assert.ok(opened.ok)
    const { record } = opened.unsealed
    assert.ok(Object.isFrozen(opened.unsealed) && Object.isFrozen(record))
    assert.ok(Object.isFrozen(record.data) && Object.isFrozen(record.meta))
    assert.throws(() => {
      ;(record.data as { n: number }).n = 2
    }, TypeError)
    assert.throws(() => {
      ;(record as { userId?: string }).userId = 'mallory'
    }, TypeError)
  })

  it('freezes the data to its depths and refuses writes to the shared snapshot', () => {
    const seals = createOpenedSeals(opts.keys, classOf)
    const opened = seals.open(sealed({ user: { roles: ['a'] } }).token)
    assert.ok(opened.ok)
    const user = opened.unsealed.record.data['user'] as { roles: string[] }
    assert.throws(() => user.roles.push('admin'), TypeError)
    const snapshot = opened.snapshot as Map<string, string>
    assert.throws(() => snapshot.set('user', '{}'), TypeError)
    assert.throws(() => snapshot.delete('user'), TypeError)
    assert.throws(() => snapshot.clear(), TypeError)
    assert.deepEqual([...opened.snapshot], [['user', '{"roles":["a"]}']])
  })

  it('refuses a token over the length cap even when it sealed it', () => {
    const seals = createOpenedSeals(opts.keys, classOf)
    const big = sealed({ text: 'x'.repeat(5000) })
    assert.ok(big.token.length > 4096)
    seals.remember(big.token, big.key, big.payload)
    assert.deepEqual(seals.open(big.token), { ok: false, reason: 'malformed' })
  })

  it('keeps nothing of a token that failed, and refuses every variant of a kept one', () => {
    const c = counting()
    const seals = createOpenedSeals(c.keys, c.classOf)
    const { token } = sealed()
    assert.ok(seals.open(token).ok)
    const tampered = tamper(token)
    assert.deepEqual(seals.open(tampered), { ok: false, reason: 'forged' })
    assert.deepEqual(seals.open(tampered), { ok: false, reason: 'forged' })
    assert.equal(c.keyLookups(), 3, 'a forged token is decrypted every time it comes')
    assert.deepEqual(seals.open(token.slice(0, -1)), reference(token.slice(0, -1)))
    assert.equal(seals.open(`${token} `).ok, false)
    const other = sealed({ n: 1 }, foreign).token
    assert.deepEqual(seals.open(other), { ok: false, reason: 'unknown_key' })
  })

  it('keeps at most its count: the oldest kept token is decrypted again', () => {
    const c = counting()
    const seals = createOpenedSeals(c.keys, c.classOf, { tokens: 4, chars: KEPT_SEAL_CHARS })
    const tokens = Array.from({ length: 10 }, (_, n) => sealed({ n }).token)
    for (const t of tokens) assert.ok(seals.open(t).ok)
    assert.equal(c.keyLookups(), 10)
    for (const t of tokens.slice(-4)) assert.ok(seals.open(t).ok)
    assert.equal(c.keyLookups(), 10, 'the 4 newest are kept')
    assert.ok(seals.open(tokens[0]!).ok)
    assert.equal(c.keyLookups(), 11, 'the oldest was not')
  })

  it('keeps at most its characters, and never a token bigger than all of them', () => {
    const c = counting()
    const small = Array.from({ length: 6 }, (_, n) => sealed({ n }))
    const each = small[0]!.token.length + small[0]!.payload.length
    const seals = createOpenedSeals(c.keys, c.classOf, { tokens: 100, chars: 3 * each + 10 })
    for (const { token } of small) assert.ok(seals.open(token).ok)
    for (const { token } of small.slice(-3)) assert.ok(seals.open(token).ok)
    assert.equal(c.keyLookups(), 6, 'three fit in the characters')
    assert.ok(seals.open(small[2]!.token).ok)
    assert.equal(c.keyLookups(), 7, 'a fourth did not')
    const big = sealed({ text: 'x'.repeat(4 * each) })
    assert.ok(seals.open(big.token).ok)
    assert.ok(seals.open(big.token).ok)
    assert.equal(c.keyLookups(), 9, 'too big to keep: decrypted each time')
    for (const { token } of small.slice(-2)) assert.ok(seals.open(token).ok)
    assert.equal(c.keyLookups(), 9, 'and it evicted nothing')
  })

  it('answers as openSeal + decodePayload do, for any sequence of tokens (property)', () => {
    const made = [
      ...Array.from({ length: 4 }, (_, n) => sealed({ n, s: 'é'.repeat(n) })),
      sealed({ text: 'x'.repeat(5000) }), // over the length cap
    ]
    const pool = [...made.map((m) => m.token), sealed({ n: 1 }, foreign).token]
    const token = tokenVariants(pool)
    const call = fc.oneof(
      token.map((t) => ({ open: t })),
      fc.nat({ max: made.length - 1 }).map((i) => ({ remember: i })),
    )
    const each = made[0]!.token.length + made[0]!.payload.length
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 * each }),
        fc.array(call, { minLength: 1, maxLength: 40 }),
        (tokens, chars, calls) => {
          const seals = createOpenedSeals(opts.keys, classOf, { tokens, chars })
          for (const c of calls) {
            if ('remember' in c) {
              const { token: t, key, payload } = made[c.remember]!
              seals.remember(t, key, payload)
            } else {
              assertSame(seals.open(c.open), reference(c.open), c.open)
            }
          }
        },
      ),
      { numRuns: 400 },
    )
  })
})
