// Pins the public surface: any change to an entry point's exports shows up here in review.
// Loads the built package by its own name (dist/ must be built: `npm run build`).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const SURFACE: Record<string, string[]> = {
  'tether-session': [
    'MemoryStore',
    'TetherError',
    'applyPatch',
    'createSessionManager',
    'expiresAt',
    'isTetherError',
    'sessionRef',
    'systemClock',
    'unmapIPv4',
  ],
  'tether-session/express': [
    'Cookie',
    'MemoryStore',
    'Session',
    'Store',
    'csrfToken',
    'default',
    'module.exports',
    'requireFreshAuth',
    'session',
    'tetherErrorHandler',
  ],
  'tether-session/fastify': ['FastifySession', 'MemoryStore', 'Store', 'default', 'fastifySession'],
  'tether-session/csrf': ['checkRequestOrigin', 'createCsrfTokens', 'csrfToken'],
  'tether-session/stores/sqlite': ['SqliteStore'],
  'tether-session/stores/postgres': ['PostgresStore'],
  'tether-session/stores/redis': ['RedisStore'],
  'tether-session/stores/compat': ['fromExpressSessionStore'],
}

describe('package exports', () => {
  for (const [entry, names] of Object.entries(SURFACE)) {
    it(`${entry} exports exactly its documented names`, async () => {
      const mod = (await import(entry)) as Record<string, unknown>
      assert.deepEqual(Object.keys(mod).sort(), names)
    })
  }

  it('require() works from CommonJS for every entry, and returns the factory for /express', () => {
    const script = fileURLToPath(new URL('./require-check.cjs', import.meta.url))
    const out = JSON.parse(
      execFileSync(process.execPath, [script, JSON.stringify(Object.keys(SURFACE))]).toString(),
    ) as Record<string, unknown>
    assert.equal(out['factory'], true)
    for (const [entry, names] of Object.entries(SURFACE)) {
      // module.exports of /express is the factory itself: its keys are the attached classes.
      const expected =
        entry === 'tether-session/express'
          ? [
              'Cookie',
              'MemoryStore',
              'Session',
              'Store',
              'csrfToken',
              'requireFreshAuth',
              'session',
              'tetherErrorHandler',
            ]
          : names.includes('default')
            ? // require() of an ES module with a default export also shows `__esModule`.
              [...names, '__esModule'].sort()
            : names
      assert.deepEqual(out[entry], expected, entry)
    }
  })
})
