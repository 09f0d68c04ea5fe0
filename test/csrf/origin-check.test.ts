import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { checkRequestOrigin, originOf, type OriginCheckInput } from '../../src/csrf/origin-check.js'

const SELF = 'https://app.example'
const TRUSTED = new Set(['https://www.app.example'])

type Row = [
  name: string,
  input: Partial<OriginCheckInput>,
  expected: ReturnType<typeof checkRequestOrigin>,
]

// Each row is what a browser sends for one kind of request to https://app.example.
const table: Row[] = [
  // <form method="post" action="https://app.example/transfer"> on evil.example, auto-submitted.
  [
    'cross-site form post',
    { secFetchSite: 'cross-site', origin: 'https://evil.example' },
    'cross-site',
  ],
  // The same form from an old browser that sends Origin but no Fetch Metadata.
  ['cross-site post, Origin only', { origin: 'https://evil.example' }, 'origin-mismatch'],
  // <iframe sandbox="allow-forms allow-scripts" srcdoc="<form method=post ...>"> sends Origin: null.
  ['sandboxed frame post', { origin: 'null' }, 'origin-null'],
  [
    'sandboxed frame post, Fetch Metadata',
    { secFetchSite: 'cross-site', origin: 'null' },
    'cross-site',
  ],
  // The form on a sibling subdomain someone else controls (or took over).
  [
    'sibling subdomain post',
    { secFetchSite: 'same-site', origin: 'https://evil.app.example' },
    'same-site',
  ],
  ['sibling, Origin only', { origin: 'https://evil.app.example' }, 'origin-mismatch'],
  ['trusted sibling', { secFetchSite: 'same-site', origin: 'https://www.app.example' }, 'ok'],
  ['trusted sibling, Origin only', { origin: 'https://www.app.example' }, 'ok'],
  [
    'trusted origin marked cross-site',
    { secFetchSite: 'cross-site', origin: 'https://www.app.example' },
    'ok',
  ],
  ['same-site without Origin', { secFetchSite: 'same-site' }, 'same-site'],
  ['same-origin fetch', { secFetchSite: 'same-origin', origin: SELF }, 'ok'],
  ['same-origin, Origin only', { origin: SELF }, 'ok'],
  ['typed URL / bookmark', { secFetchSite: 'none' }, 'ok'],
  ['curl: no Origin, no Fetch Metadata', {}, 'ok'],
  ['http downgrade of the own host', { origin: 'http://app.example' }, 'origin-mismatch'],
  ['another port', { origin: 'https://app.example:8443' }, 'origin-mismatch'],
  [
    'unknown Sec-Fetch-Site value falls back to Origin',
    { secFetchSite: 'x', origin: 'https://evil.example' },
    'origin-mismatch',
  ],
  ['repeated Origin headers', { origin: [SELF, SELF] }, 'origin-null'],
  [
    'no Host header, foreign Origin',
    { origin: 'https://evil.example', selfOrigin: undefined },
    'origin-mismatch',
  ],
  [
    'cross-site GET',
    { method: 'GET', secFetchSite: 'cross-site', origin: 'https://evil.example' },
    'ok',
  ],
  ['cross-site HEAD', { method: 'HEAD', secFetchSite: 'cross-site' }, 'ok'],
  ['cross-site OPTIONS', { method: 'OPTIONS', secFetchSite: 'cross-site' }, 'ok'],
  ['cross-site DELETE', { method: 'DELETE', secFetchSite: 'cross-site' }, 'cross-site'],
  [
    'cross-site PUT, Origin only',
    { method: 'PUT', origin: 'https://evil.example' },
    'origin-mismatch',
  ],
  [
    'lower-case post is not a safe method',
    { method: 'post', origin: 'https://evil.example' },
    'origin-mismatch',
  ],
  [
    'ignored method',
    { method: 'REPORT', origin: 'https://evil.example', ignoreMethods: new Set(['REPORT']) },
    'ok',
  ],
  [
    'GET no longer ignored',
    { method: 'GET', secFetchSite: 'cross-site', ignoreMethods: new Set() },
    'cross-site',
  ],
]

describe('checkRequestOrigin', () => {
  for (const [name, input, expected] of table) {
    it(`answers ${expected} for: ${name}`, () => {
      const verdict = checkRequestOrigin({
        method: 'POST',
        secFetchSite: undefined,
        origin: undefined,
        selfOrigin: SELF,
        trustedOrigins: TRUSTED,
        ...input,
      })
      assert.equal(verdict, expected)
    })
  }

  it('never lets an untrusted foreign Origin through on an unsafe method without Fetch Metadata', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), (url, method) => {
        const origin = new URL(url).origin
        const verdict = checkRequestOrigin({
          method,
          secFetchSite: undefined,
          origin,
          selfOrigin: SELF,
          trustedOrigins: TRUSTED,
        })
        return origin === SELF || TRUSTED.has(origin) || verdict !== 'ok'
      }),
    )
  })
})

describe('originOf', () => {
  it('serialises the origin as browsers do: lower case, default port dropped', () => {
    assert.equal(originOf(true, 'App.Example:443'), 'https://app.example')
    assert.equal(originOf(false, 'app.example:80'), 'http://app.example')
    assert.equal(originOf(false, 'app.example:443'), 'http://app.example:443')
    assert.equal(originOf(true, '[::1]:8443'), 'https://[::1]:8443')
    assert.equal(originOf(true, undefined), undefined)
    assert.equal(originOf(true, ''), undefined)
  })
})
