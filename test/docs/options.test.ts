/**
 * docs/options.md documents every option the Express middleware accepts, every cookie attribute,
 * error code and event type; CHANGELOG.md names every error code and event type. The option lists
 * are the ones the middleware warns about unknown options with (src: `EXPRESS_OPTIONS`,
 * `COOKIE_OPTIONS`), checked against the TypeScript types, so adding an option without listing it
 * fails to compile, and listing it without documenting it fails this test. What it lets pass: the
 * content of a section (only its heading is checked).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { COOKIE_OPTIONS } from '../../src/http/cookie.js'
import type { CsrfOptions } from '../../src/csrf/options.js'
import { EXPRESS_OPTIONS } from '../../src/adapters/express/options.js'
import { TetherError, type TetherErrorCode } from '../../src/errors.js'
import type { TetherEventType } from '../../src/events/types.js'

/** Every option of `session(options)`, the inherited `ManagerOptions` keys included. */
const optionKeys = EXPRESS_OPTIONS

/** Every key of the `csrf` option's object form. */
export const csrfKeys = {
  token: true,
  preSession: true,
  trustedOrigins: true,
  ignoreMethods: true,
} as const satisfies Record<keyof CsrfOptions, true>

/** Every attribute of the `cookie` option. */
const cookieKeys = COOKIE_OPTIONS

const errorCodes = {
  TETHER_INVALID_OPTION: true,
  TETHER_WEAK_SECRET: true,
  TETHER_STORE_UNAVAILABLE: true,
  TETHER_CSRF_REJECTED: true,
  TETHER_SESSION_NOT_FOUND: true,
  TETHER_VERSION_CONFLICT: true,
  TETHER_SESSION_TOO_LARGE: true,
  TETHER_INVALID_SESSION_DATA: true,
  TETHER_NOT_SUPPORTED: true,
  TETHER_RATE_LIMITED: true,
  TETHER_SESSION_LIMIT: true,
  TETHER_SESSION_ID_IN_USE: true,
  TETHER_COOKIE_TOO_LARGE: true,
} as const satisfies Record<TetherErrorCode, true>

const eventTypes = {
  'session.created': true,
  'session.login': true,
  'session.regenerated': true,
  'session.destroyed': true,
  'session.revoked': true,
  'session.revoked_all': true,
  'session.expired_idle': true,
  'session.expired_absolute': true,
  'session.binding_mismatch': true,
  'session.unknown': true,
  'session.too_large': true,
  'token.malformed': true,
  'token.forged': true,
  'token.unknown_key': true,
  'csrf.rejected': true,
  'ratelimit.blocked': true,
  'store.error': true,
} as const satisfies Record<TetherEventType, true>

const options = readFileSync(new URL('../../docs/options.md', import.meta.url), 'utf8')
const changelog = readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8')
const headings = [...options.matchAll(/^### (.+?)\s*$/gm)].map((m) => m[1])

/** The cells of the table row whose first cell is `` `name` ``, or undefined. */
function tableRow(markdown: string, name: string): string[] | undefined {
  const line = markdown.split('\n').find((l) => l.startsWith(`| \`${name}\` `))
  return line
    ?.split('|')
    .slice(1, -1)
    .map((cell) => cell.trim())
}

describe('docs/options.md', () => {
  it('has a section for every option of the Express middleware', () => {
    const missing = Object.keys(optionKeys).filter((key) => !headings.includes(key))
    assert.deepEqual(missing, [])
  })

  it('has a section for every cookie attribute', () => {
    const missing = Object.keys(cookieKeys).filter((key) => !headings.includes(`cookie.${key}`))
    assert.deepEqual(missing, [])
  })

  it('has a section for every key of the csrf option', () => {
    const missing = Object.keys(csrfKeys).filter((key) => !headings.includes(`csrf.${key}`))
    assert.deepEqual(missing, [])
  })

  it('has no section for an option the middleware does not accept', () => {
    const known = [
      ...Object.keys(optionKeys),
      ...Object.keys(cookieKeys).map((k) => `cookie.${k}`),
      ...Object.keys(csrfKeys).map((k) => `csrf.${k}`),
    ]
    assert.deepEqual(
      headings.filter((h) => h !== undefined && !known.includes(h)),
      [],
    )
  })

  it('lists every error code with the status TetherError gives it', () => {
    for (const code of Object.keys(errorCodes) as TetherErrorCode[]) {
      const row = tableRow(options, code)
      assert.ok(row, `no row for ${code} in the error code table`)
      assert.equal(row[1], String(new TetherError(code, '').status), `status of ${code}`)
    }
  })

  it('lists every event type', () => {
    const missing = Object.keys(eventTypes).filter((type) => tableRow(options, type) === undefined)
    assert.deepEqual(missing, [])
  })
})

describe('CHANGELOG.md', () => {
  it('names every error code and event type', () => {
    const missing = [...Object.keys(errorCodes), ...Object.keys(eventTypes)].filter(
      (name) => !changelog.includes(`\`${name}\``),
    )
    assert.deepEqual(missing, [])
  })
})
