/**
 * `--micro`, run by the harness pinned to CPU 0: the per-request building blocks beside
 * express-session's. Cookie sign and verify (Tether's token codec against `cookie-signature`),
 * id generation (against `uid-safe`, express-session's), store-key hashing, and one load + commit
 * through the manager on MemoryStore. The codec has no public entry point, so it is imported from
 * src/ (read only). Prints one JSON line after the table.
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import signature from 'cookie-signature'
import { createSessionManager, MemoryStore, sessionRef } from 'tether-session'
import { generateSessionId } from '../../src/codec/ids.js'
import { createKeyring } from '../../src/codec/keyring.js'
import { signToken, verifyToken } from '../../src/codec/token.js'
import { forgeToken } from '../lib/forge.js'
import { time, type Timed } from './timer.js'

const require = createRequire(import.meta.url)
// express-session's id generator (no types published).
const uid = require('uid-safe') as { sync(bytes: number): string }

const secret = randomBytes(32).toString('base64url')

async function codec(): Promise<Timed[]> {
  const keyring = createKeyring(secret)
  const key = keyring.signing
  const id = generateSessionId()
  const now = Date.now()
  const token = signToken(key, id, now)
  const forged = forgeToken(token, randomBytes)
  const lifetime = () => 8 * 3600_000
  const esId = uid.sync(24)
  const esSigned = signature.sign(esId, secret)
  if (!verifyToken(token, keyring.byKid, now, lifetime).ok) throw new Error('verify failed')
  if (signature.unsign(esSigned, secret) !== esId) throw new Error('unsign failed')
  return [
    await time('sign: Tether signToken', () => signToken(key, id, now)),
    await time('sign: cookie-signature sign', () => signature.sign(esId, secret)),
    await time('verify: Tether verifyToken', () =>
      verifyToken(token, keyring.byKid, now, lifetime),
    ),
    await time('verify: cookie-signature unsign', () => signature.unsign(esSigned, secret)),
    await time('verify forged: Tether verifyToken', () =>
      verifyToken(forged, keyring.byKid, now, lifetime),
    ),
    await time('id: Tether generateSessionId', () => generateSessionId()),
    await time('id: uid-safe sync(24) (express-session)', () => uid.sync(24)),
    await time('store key: sessionRef (SHA-256)', () => sessionRef(id)),
  ]
}

async function manager(): Promise<Timed[]> {
  const store = new MemoryStore()
  const m = createSessionManager({ secret, store })
  const ctx = { ip: '127.0.0.1', userAgent: 'bench', path: '/me' }
  const first = m.create(ctx)
  await m.commit(first, ctx, { data: { user: { id: 'u1', name: 'Alice Example' }, n: 0 } })
  const token = m.token(first)
  const write = async () => {
    const { session } = await m.load({ ...ctx, token })
    if (session === null) throw new Error('the session did not load')
    const n = (session.record.data['n'] as number) + 1
    await m.commit(session, ctx, { data: { ...session.record.data, n } })
  }
  const read = async () => {
    const { session } = await m.load({ ...ctx, token })
    if (session === null) throw new Error('the session did not load')
    await m.commit(session, ctx, { data: session.record.data })
  }
  const results = [
    await time('manager: load + commit (write) on MemoryStore', write, { isAsync: true }),
    await time('manager: load + commit (unchanged) on MemoryStore', read, { isAsync: true }),
  ]
  await m.close()
  await store.close()
  return results
}

async function main(): Promise<void> {
  const results = [...(await codec()), ...(await manager())]
  const width = Math.max(...results.map((r) => r.name.length))
  console.log(`${'operation'.padEnd(width)}  ${'ns/op'.padStart(9)}  ${'(min–max)'.padStart(19)}`)
  for (const r of results) {
    const spread = `(${r.minNs.toFixed(0)}–${r.maxNs.toFixed(0)})`
    console.log(
      `${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(0).padStart(9)}  ${spread.padStart(19)}`,
    )
  }
  const ns = (name: string) => results.find((r) => r.name.startsWith(name))!.nsPerOp
  console.log(
    `\nTether / cookie-signature: sign ${(ns('sign: Tether') / ns('sign: cookie')).toFixed(2)}× ` +
      `the time, verify ${(ns('verify: Tether') / ns('verify: cookie')).toFixed(2)}×; ` +
      `id ${(ns('id: Tether') / ns('id: uid-safe')).toFixed(2)}× uid-safe`,
  )
  console.log(JSON.stringify({ micro: results }))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
