/**
 * IPv4 clients on a dual-stack listener (`app.listen(port)` binds `::`) appear as IPv4-mapped IPv6
 * addresses (`::ffff:192.0.2.1`). Every use of an address (throttle, binding, the IP prefix of
 * session listings, events) must see the IPv4 address, never a /48 of IPv6 that spans 255 /24s.
 */
import assert from 'node:assert/strict'
import { request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import express from 'express'
import fc from 'fast-check'
import session from '../../src/adapters/express/index.js'
import { contextMeta } from '../../src/core/binding.js'
import { ipPrefix } from '../../src/core/ip-prefix.js'
import { createSessionManager } from '../../src/core/manager.js'
import { unmapIPv4 } from '../../src/core/unmap-ipv4.js'
import type { TetherEvent } from '../../src/events/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { newSecret } from '../helpers/secrets.js'
import { tamper } from '../helpers/tamper.js'

/** The mapped forms one IPv4 address can be written in. */
function mappedForms(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number]
  const hi = ((a << 8) | b).toString(16)
  const lo = ((c << 8) | d).toString(16)
  return [
    `::ffff:${v4}`,
    `::FFFF:${v4}`,
    `0:0:0:0:0:ffff:${v4}`,
    `0000:0000:0000:0000:0000:FFFF:${v4}`,
    `::ffff:${hi}:${lo}`,
    `0:0::ffff:${hi.toUpperCase()}:${lo}`,
  ]
}

describe('unmapIPv4', () => {
  it('turns every spelling of an IPv4-mapped address into the IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        for (const form of mappedForms(v4)) assert.equal(unmapIPv4(form), v4, form)
        assert.equal(unmapIPv4(v4), v4)
      }),
    )
  })

  it('leaves other IPv6 addresses and non-addresses unchanged', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        const expanded = new URL(`http://[${v6}]`).hostname
        if (/^\[::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/.test(expanded)) return
        assert.equal(unmapIPv4(v6), v6)
      }),
    )
    for (const other of [
      '::1',
      '2001:db8::1',
      'fe80::1%eth0',
      '::ffff:0:192.0.2.1', // IPv4-translated (RFC 2765), not mapped
      '::192.0.2.1', // IPv4-compatible (deprecated), not mapped
      '64:ff9b::192.0.2.1', // NAT64
      '',
      'unknown',
      '::ffff:999.1.1.1',
    ])
      assert.equal(unmapIPv4(other), other, other)
    assert.equal(unmapIPv4(undefined), undefined)
  })
})

describe('addresses of IPv4 clients on a dual-stack listener', () => {
  it('gives a mapped address the IPv4 /24 as its prefix, in every spelling', () => {
    for (const form of mappedForms('198.51.100.7')) {
      assert.equal(ipPrefix(form), '198.51.100.0/24', form)
      assert.deepEqual(contextMeta({ ip: form }), { ipPrefix: '198.51.100.0/24' }, form)
    }
  })

  it('binds a session logged in over a mapped address to the IPv4 network, and lists that network', async () => {
    const events: TetherEvent[] = []
    const manager = createSessionManager({
      secret: newSecret(),
      store: new MemoryStore(),
      onEvent: (e) => events.push(e),
      binding: 'revoke',
    })
    const mapped = { ip: '::ffff:c633:6407', userAgent: 'ua' } // 198.51.100.7 in hex
    const session = await manager.login(manager.create(mapped), {}, 'alice', mapped)
    const token = manager.token(session)
    const plain = { ip: '198.51.100.8', userAgent: 'ua', token }
    assert.ok((await manager.load(plain)).session, 'the same /24 over IPv4 is the same network')
    const [listed] = await manager.listUserSessions('alice')
    assert.equal(listed?.ip, '198.51.100.0/24')
    assert.equal(events.find((e) => e.type === 'session.login')?.ip, '198.51.100.7')
    assert.ok(!events.some((e) => e.type === 'session.binding_mismatch'))
  })
})

/** One request from `localAddress` to 127.0.0.1 (the server sees ::ffff:<localAddress>). */
function from(
  localAddress: string,
  port: number,
  cookie?: string,
): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const headers = cookie === undefined ? {} : { cookie }
    const req = request({ host: '127.0.0.1', port, localAddress, headers }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/** An Express app with a throttle of 3 invalid cookies a minute, listening on `::` (dual stack). */
async function dualStackApp(t: TestContext) {
  const events: TetherEvent[] = []
  const seen: string[] = []
  const app = express()
  app.use(session({ secret: newSecret(), throttle: { limit: 3 }, onEvent: (e) => events.push(e) }))
  app.get('/', (req, res) => {
    seen.push(String(req.socket.remoteAddress))
    ;(req.session as unknown as { n: number }).n = 1
    res.end()
  })
  app.use(function errors(
    err: { status?: number },
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) {
    res.status(err.status ?? 500).end()
  })
  const server: Server = app.listen(0, '::')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, events, seen }
}

describe('invalid-cookie throttle on a dual-stack listener', () => {
  it('counts an IPv4 client by its own address, not by its /24, and reports it as IPv4', async (t) => {
    const s = await dualStackApp(t)
    const good = (await from('127.0.0.2', s.port)).setCookie[0]!.split(';')[0]!
    assert.equal(s.seen[0], '::ffff:127.0.0.2', 'the listener reports a mapped address')
    const forged = tamper(good)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await from('127.0.0.2', s.port, forged)).status)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429], 'the abuser is throttled')
    assert.equal(
      (await from('127.0.0.3', s.port, forged)).status,
      200,
      'a neighbour in the same /24 with a stale cookie is not',
    )
    const blocked = s.events.find((e) => e.type === 'ratelimit.blocked')
    assert.equal(blocked?.ip, '127.0.0.2')
    assert.ok(
      s.events.every((e) => e.ip === undefined || !e.ip.startsWith('::ffff:')),
      'no event carries a mapped address',
    )
  })
})
