/**
 * fast-check arbitraries for session data that tries to break a store: JSON whose keys are
 * `__proto__`, `constructor`, `prototype` and Object.prototype's names at any depth (built with
 * JSON.parse, so `__proto__` is an own key, as a body parser makes it), and values JSON cannot carry
 * (BigInt, cycles, functions, symbols, Map, Set, non-finite numbers) hidden at any depth.
 */
import fc from 'fast-check'

const hostileKey = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'valueOf',
      'hasOwnProperty',
      '__defineGetter__',
      'isPrototypeOf',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
)

/** JSON text of a value whose objects are keyed mostly by hostile names, nested a few levels. */
const { node: hostileJsonText } = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
    fc.array(tie('node'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(hostileKey, tie('node')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
}))

/** Top-level session data (keys `k…`, never reserved) whose values hold hostile keys anywhere. */
export const hostileData = fc
  .dictionary(
    fc.string({ maxLength: 4 }).map((k) => `k${k}`),
    hostileJsonText,
    { minKeys: 1, maxKeys: 4 },
  )
  .map((entries) => {
    const data: Record<string, unknown> = {}
    for (const [k, text] of Object.entries(entries)) data[k] = JSON.parse(text) as unknown
    return data
  })

/** A value JSON cannot carry, and the words its refusal is about. */
export const poison = fc.constantFrom(
  () => 10n,
  () => function notData() {},
  () => Symbol('s'),
  () => new Map([['a', 1]]),
  () => new Set([1]),
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => {
    const cycle: Record<string, unknown> = { a: 1 }
    cycle['self'] = { back: cycle }
    return cycle
  },
)

/** `value` nested `depth` levels down, in objects or arrays. */
export const nestedPoison = fc
  .tuple(poison, fc.array(fc.boolean(), { maxLength: 5 }))
  .map(([make, levels]) =>
    levels.reduce<unknown>((inner, inArray) => (inArray ? [0, inner] : { deeper: inner }), make()),
  )
