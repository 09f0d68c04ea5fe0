import fc from 'fast-check'

/**
 * Tokens a client may send, built from `pool`: one of them as it is, with one character changed,
 * truncated, or any short string. For properties that hold a token cache to the check it saves.
 */
export function tokenVariants(pool: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...pool),
    fc
      .tuple(fc.constantFrom(...pool), fc.nat(), fc.constantFrom(...'Aa0_-.~x'))
      .map(([v, at, ch]) => {
        const i = at % v.length
        return v.slice(0, i) + ch + v.slice(i + 1)
      }),
    fc.tuple(fc.constantFrom(...pool), fc.nat()).map(([v, n]) => v.slice(0, n % v.length)),
    fc.string({ maxLength: 120 }),
  )
}
