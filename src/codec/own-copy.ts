/**
 * A copy of `text` that holds only its own characters. V8 may make a slice of a longer string
 * (a token cut from a Cookie header) point into that string, keeping all of it alive: whatever a
 * long-lived cache keeps by a token's text, it keeps a copy of, so its memory bound holds.
 */
export function ownCopy(text: string): string {
  // UTF-16 code units out and back: exact for any string, lone surrogates included.
  return Buffer.from(text, 'utf16le').toString('utf16le')
}
