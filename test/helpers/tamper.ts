/**
 * A token with one character changed inside its signed or sealed bytes. Not the last characters:
 * a base64url tail may carry spare bits, and a fixed replacement ("...AA") equals the original
 * token often enough to fail a test now and then.
 */
export function tamper(token: string): string {
  const i = token.length - 10
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
}
