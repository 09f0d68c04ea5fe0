const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Whether unpadded base64url `text` (alphabet characters only, checked before) is the one
 * spelling of its bytes, so a token has exactly one accepted form: a length of 4n+1 never is one,
 * and the bits the last character carries past the last byte (4 of them at 4n+2, 2 at 4n+3) must
 * be zero. The same answer as decoding, encoding again and comparing, without either.
 */
export function isCanonicalBase64url(text: string): boolean {
  const rest = text.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const last = ALPHABET.indexOf(text[text.length - 1]!)
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0
}
