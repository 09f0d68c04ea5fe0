/**
 * fast-check arbitraries for hostile `Cookie` and `Authorization` headers built around real
 * tokens: one character changed, cut short, extended, random bytes, oversized values, several
 * cookies of one name, several headers. None of them is a real token unchanged, so a server must
 * accept none. What they knowingly leave out: bytes Node's HTTP parser refuses before any
 * middleware runs (CR, LF, NUL and the other control characters but tab).
 */
import fc from 'fast-check'

/** Bytes a header value may hold on the wire (RFC 9110 §5.5 field-vchar, SP, HTAB, obs-text). */
const headerByte = fc.oneof(
  fc.constant('\t'),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
)
const headerBytes = (maxLength: number) =>
  fc.array(headerByte, { maxLength }).map((chars) => chars.join(''))

/** Characters a token is made of, plus the separators a forger would try. */
const tokenChar = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=%"\\,:'.split(''),
)

/**
 * Appended text that cannot give the token back: no whitespace (trimmed by parsers) and no `;`
 * (which would end the cookie value and leave the real token).
 */
const extension = fc
  .array(fc.oneof(tokenChar, headerByte), { minLength: 1, maxLength: 40 })
  .map((chars) => chars.join(''))
  .filter((ext) => !ext.includes(';') && /^\S/.test(ext))

/** A real token changed so that it is no longer that token. */
export function mutatedToken(tokens: readonly string[]): fc.Arbitrary<string> {
  const token = fc.constantFrom(...tokens)
  const tamper = fc.tuple(token, fc.nat(), fc.oneof(tokenChar, headerByte)).map(([t, i, ch]) => {
    const at = i % t.length
    return t.slice(0, at) + ch + t.slice(at + 1)
  })
  const truncate = fc.tuple(token, fc.nat()).map(([t, i]) => t.slice(0, i % t.length))
  const extend = fc.tuple(token, extension).map(([t, ext]) => t + ext)
  const segments = fc
    .tuple(token, token, fc.nat({ max: 4 }))
    // A segment of one real token put in another: a valid MAC for a different payload.
    .map(([a, b, i]) =>
      a
        .split('.')
        .map((s, j) => (j === i ? (b.split('.')[j] ?? s) : s))
        .join('.'),
    )
  return fc
    .oneof(tamper, truncate, extend, segments)
    .filter((t) => !tokens.includes(t.trim()) && !tokens.includes(t.replace(/^"(.*)"$/, '$1')))
}

/** Any value: a mutated token, random bytes, or an oversized run of token characters. */
function hostileValue(tokens: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedToken(tokens) },
    { weight: 2, arbitrary: headerBytes(300) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 257, max: 12_000 }).map((n) => 't1.' + 'A'.repeat(n)),
    },
  )
}

/** A `Cookie` header (or several, as an array) naming `sid` zero, one or more times. */
export function hostileCookieHeader(tokens: readonly string[]): fc.Arbitrary<string | string[]> {
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constant('sid') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('SID', ' sid', 'sid ', '__Host-sid', 'sid\t', 'other'),
    },
  )
  const pair = fc.tuple(name, hostileValue(tokens)).map(([n, v]) => `${n}=${v}`)
  const header = fc.oneof(
    { weight: 4, arbitrary: pair },
    // Several cookies in one header, joined as browsers join them; an odd separator now and then.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.array(pair, { minLength: 2, maxLength: 4 }),
          fc.constantFrom('; ', ';', ' ; ', ','),
        )
        .map(([pairs, sep]) => pairs.join(sep)),
    },
    { weight: 1, arbitrary: headerBytes(200) },
  )
  return fc.oneof(
    { weight: 5, arbitrary: header },
    { weight: 1, arbitrary: fc.array(header, { minLength: 2, maxLength: 3 }) },
  )
}

/** An `Authorization` header (or several) for a server with `bearer: true`. */
export function hostileAuthorization(tokens: readonly string[]): fc.Arbitrary<string | string[]> {
  const scheme = fc.oneof(
    { weight: 6, arbitrary: fc.constant('Bearer ') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('bearer ', 'BEARER  ', 'Bearer\t', 'Bearer', 'Bearer='),
    },
  )
  const header = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(scheme, hostileValue(tokens)).map(([s, v]) => s + v) },
    { weight: 1, arbitrary: headerBytes(200) },
  )
  return fc.oneof(
    { weight: 5, arbitrary: header },
    { weight: 1, arbitrary: fc.array(header, { minLength: 2, maxLength: 3 }) },
  )
}
