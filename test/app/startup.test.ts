/**
 * Start-up of the reference app: every refusal names the environment variable to change, never a
 * library option the app does not expose, and a store that cannot be opened is told apart from a
 * setting the session middleware refuses.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { createApp } from '../../app/app.js'
import type { AppConfig, StoreKind } from '../../app/config.js'
import { Client, newSecret, spawnServer, tempDir, testConfig } from './harness.js'

const REPO = new URL('../../', import.meta.url).pathname

/** createApp's refusal for this configuration (it must refuse). */
async function refusal(t: TestContext, kind: StoreKind, over: Partial<AppConfig>) {
  const config = testConfig(kind, tempDir(t), { ...over })
  const quiet = { write() {} }
  return createApp(config, { logStream: quiet }).then(
    async (running) => {
      await running.close()
      assert.fail('createApp should have refused')
    },
    (err: unknown) => err as Error,
  )
}

describe('reference app start-up', () => {
  it('starts with SESSION_RENEW_AFTER=30s and serves a login', async (t) => {
    const app = await spawnServer(t, {
      DATA_DIR: tempDir(t),
      SESSION_SECRET: newSecret(),
      SESSION_STORE: 'memory',
      SESSION_RENEW_AFTER: '30s',
    })
    const alice = new Client(app.url)
    assert.equal((await alice.login('alice', 'correct-horse')).status, 200)
    assert.equal((await alice.get('/profile')).status, 200)
  })

  it('names the variable behind a setting the session middleware refuses', async (t) => {
    const cases: [Partial<AppConfig>, RegExp][] = [
      [{ renewAfterMs: 0 }, /^SESSION_RENEW_AFTER is refused: "renewAfter" must be a positive/],
      [{ idleTimeoutMs: -1 }, /^SESSION_IDLE_TIMEOUT is refused: "idleTimeout" must be/],
      [
        { adminClass: { secret: newSecret(), idleTimeoutMs: 0, absoluteTimeoutMs: 3_600_000 } },
        /^SESSION_ADMIN_IDLE_TIMEOUT is refused: "classes\.admin\.idleTimeout" must be/,
      ],
    ]
    for (const [over, message] of cases) {
      const err = await refusal(t, 'memory', over)
      assert.equal(err.name, 'ConfigError')
      assert.match(err.message, message)
    }
  })

  it('names REDIS_URL, DATABASE_URL or DATA_DIR when the store cannot be opened', async (t) => {
    const file = join(tempDir(t), 'not-a-directory')
    writeFileSync(file, '')
    const cases: [StoreKind, Partial<AppConfig>, RegExp][] = [
      [
        'redis',
        { redisUrl: 'redis://127.0.0.1:1' },
        /^could not open the redis session store: .*; check REDIS_URL/,
      ],
      [
        'postgres',
        { databaseUrl: 'postgres://postgres@127.0.0.1:1/test' },
        /^could not open the postgres session store: .*; check DATABASE_URL/,
      ],
      [
        'sqlite',
        { dataDir: join(file, 'data') },
        /^could not open the sqlite session store: .*; check DATA_DIR/,
      ],
    ]
    for (const [kind, over, message] of cases) {
      const err = await refusal(t, kind, over)
      assert.equal(err.name, 'ConfigError', kind)
      assert.match(err.message, message)
    }
  })

  it('stops npm start with the variable named and no stack trace when DATA_DIR is not usable', (t) => {
    const file = join(tempDir(t), 'not-a-directory')
    writeFileSync(file, '')
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        DATA_DIR: file,
        SESSION_SECRET: newSecret(),
        SESSION_STORE: 'sqlite',
        PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(run.status, 1)
    assert.match(run.stderr, /could not open the sqlite session store: .*; check DATA_DIR/)
    assert.doesNotMatch(run.stderr, /\bat \S+ \(/, 'no stack trace')
  })
})
