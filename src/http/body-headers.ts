import type { ServerResponse } from 'node:http'

/**
 * Headers that describe one particular body, so they must go when another body replaces it: a
 * stale Content-Length truncates the new body and corrupts a keep-alive connection, a stale ETag
 * or Last-Modified validates the wrong content, a stale Content-Disposition saves an error page
 * as the file the route meant to send.
 */
export const BODY_HEADERS = [
  // RFC 9110 §8.3-8.7: representation metadata.
  'Content-Type',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Location',
  // RFC 9110 §8.8: validators.
  'ETag',
  'Last-Modified',
  // RFC 9110 §14.4: the part of the representation the body holds.
  'Content-Range',
  // RFC 6266: how to present the body.
  'Content-Disposition',
  // RFC 9530 and its predecessors: checksums of the body.
  'Content-Digest',
  'Repr-Digest',
  'Digest',
  'Content-MD5',
  // RFC 9112 §6.1, RFC 9110 §6.6.2: framing and trailers the route chose for its body.
  'Transfer-Encoding',
  'Trailer',
  // RFC 9111 §5.3: freshness the route gave its content, not an error.
  'Expires',
] as const

/** Removes every header that describes the body the route had prepared (see BODY_HEADERS). */
export function dropBodyHeaders(res: ServerResponse): void {
  // Only those present: removing an absent Content-Length or Transfer-Encoding tells Node not to
  // frame the body itself, and the connection would then have to close after the response.
  for (const name of BODY_HEADERS) if (res.hasHeader(name)) res.removeHeader(name)
}
