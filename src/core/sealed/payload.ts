import { hash } from 'node:crypto'
import { sessionRef } from '../../codec/ids.js'
import type { EventContext } from '../../events/types.js'
import type { SessionRecord, StoredCookie } from '../../stores/types.js'
import type { ClassPolicy } from '../options.js'

/**
 * What a sealed token holds, as compact JSON (every byte counts against the 4,096 of a cookie):
 *
 *   { i: id, c: createdAt, l: lastSeenAt, e: idleExpiresAt, k?: class (absent: default),
 *     u?: userId, a?: authAt, m?: { u?: user-agent digest, p?: IP prefix }, o?: originRef (absent:
 *     the id's own ref), x?: the per-user mark this session was kept through, ck?: cookie, d: data }
 *
 * The absolute expiry is not sealed: it follows from `c` and the class's current absoluteTimeout.
 */
interface Payload {
  i: string
  c: number
  l: number
  e: number
  k?: string
  u?: string
  a?: number
  m?: { u?: string; p?: string }
  o?: string
  x?: number
  ck?: StoredCookie
  d: Record<string, unknown>
}

/** A session as a sealed token carries it. */
export interface Unsealed {
  id: string
  ref: string
  record: SessionRecord
  /** The per-user "not before" mark `revokeUserSessions(userId, { except })` kept it through. */
  keptThrough: number | undefined
}

/**
 * The context a sealed session is bound to: the user agent as a 96-bit digest, so the seal's size
 * does not depend on the browser (a 256-character user agent would cost a tenth of the budget).
 */
export function sealedContext<C extends EventContext>(ctx: C): C {
  if (ctx.userAgent === undefined) return ctx
  return { ...ctx, userAgent: userAgentDigest(ctx.userAgent) }
}

/**
 * Digests of the user agents seen lately: a server sees few distinct ones, and none is secret.
 * At most 256 of at most 512 characters each (a browser's is about 100 to 300).
 */
const uaDigests = new Map<string, string>()
const KEPT_UA_DIGESTS = 256
const KEPT_UA_CHARS = 512

function userAgentDigest(userAgent: string): string {
  let digest = uaDigests.get(userAgent)
  if (digest === undefined) {
    digest = hash('sha256', userAgent, 'base64url').slice(0, 16)
    if (userAgent.length > KEPT_UA_CHARS) return digest
    if (uaDigests.size >= KEPT_UA_DIGESTS) uaDigests.clear()
    uaDigests.set(userAgent, digest)
  }
  return digest
}

/** The JSON sealed for a session; `ref` is the id's own (`sessionRef(id)`). */
export function encodePayload(
  id: string,
  ref: string,
  record: SessionRecord,
  keptThrough: number | undefined,
): string {
  const p: Payload = {
    i: id,
    c: record.createdAt,
    l: record.lastSeenAt,
    e: record.idleExpiresAt,
    d: {},
  }
  if (record.sessionClass !== 'default') p.k = record.sessionClass
  if (record.userId !== undefined) p.u = record.userId
  if (record.authAt !== undefined) p.a = record.authAt
  const { ua, ipPrefix } = record.meta
  if (ua !== undefined || ipPrefix !== undefined) {
    p.m = {}
    if (ua !== undefined) p.m.u = ua
    if (ipPrefix !== undefined) p.m.p = ipPrefix
  }
  if (record.originRef !== undefined && record.originRef !== ref) p.o = record.originRef
  if (keptThrough !== undefined) p.x = keptThrough
  if (record.cookie !== undefined) p.ck = record.cookie
  p.d = record.data
  return JSON.stringify(p)
}

/**
 * The session a sealed payload holds, or null when it is not one. The payload is authenticated,
 * so a failure here means another version's or a bug's seal: checked anyway, never trusted blind.
 */
export function decodePayload(
  json: string,
  classOf: (name: string) => ClassPolicy | undefined,
): Unsealed | null {
  let p: Partial<Payload>
  try {
    p = JSON.parse(json) as Partial<Payload>
  } catch {
    return null
  }
  if (!isObject(p) || typeof p.i !== 'string' || p.i.length === 0 || !isObject(p.d)) return null
  if (!isTime(p.c) || !isTime(p.l) || !isTime(p.e)) return null
  const cls = p.k === undefined || typeof p.k === 'string' ? classOf(p.k ?? 'default') : undefined
  if (cls === undefined) return null
  const ref = sessionRef(p.i)
  const record: SessionRecord = {
    v: 1,
    data: plainCopy(p.d),
    createdAt: p.c,
    lastSeenAt: p.l,
    idleExpiresAt: p.e,
    absoluteExpiresAt: p.c + cls.absoluteTimeoutMs,
    sessionClass: cls.name,
    meta: {},
    originRef: typeof p.o === 'string' ? p.o : ref,
  }
  if (typeof p.u === 'string') record.userId = p.u
  if (isTime(p.a)) record.authAt = p.a
  if (isObject(p.m) && typeof p.m.u === 'string') record.meta.ua = p.m.u
  if (isObject(p.m) && typeof p.m.p === 'string') record.meta.ipPrefix = p.m.p
  if (isObject(p.ck)) record.cookie = p.ck
  return { id: p.i, ref, record, keptThrough: isTime(p.x) ? p.x : undefined }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** The data as an object without a prototype, as every store returns it. */
function plainCopy(data: Record<string, unknown>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(data)) out[key] = data[key]
  return out
}
