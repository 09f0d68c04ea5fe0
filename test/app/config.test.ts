/**
 * The reference app's environment (DESIGN.md "Reference app": PORT, SESSION_STORE, DATA_DIR,
 * secrets, timeouts, NODE_ENV, TRUST_PROXY; docs/reference-app.md: SESSION_REAUTH_MAX_AGE,
 * SESSION_BINDING): defaults, parsing, and refusals that say how to fix them.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig, parseDurationEnv } from '../../app/config.js'
import { newSecret, spawnServer, tempDir } from './harness.js'

describe('reference app config', () => {
  it('has the documented defaults', (t) => {
    const dataDir = tempDir(t)
    const config = loadConfig({ DATA_DIR: dataDir })
    assert.equal(config.port, 3000)
    assert.equal(config.store, 'sqlite')
    assert.equal(config.production, false)
    assert.equal(config.idleTimeoutMs, 30 * 60_000)
    assert.equal(config.absoluteTimeoutMs, 8 * 3_600_000)
    assert.equal(config.trustProxy, false)
    assert.equal(config.reauthMaxAgeMs, 5 * 60_000)
    assert.equal(config.binding, 'log')
    assert.equal(config.renewAfterMs, 15 * 60_000)
  })

  it('reads SESSION_RENEW_AFTER as a duration, or "off"', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    assert.equal(loadConfig({ ...base, SESSION_RENEW_AFTER: '5m' }).renewAfterMs, 5 * 60_000)
    assert.equal(loadConfig({ ...base, SESSION_RENEW_AFTER: 'off' }).renewAfterMs, false)
    assert.throws(() => loadConfig({ ...base, SESSION_RENEW_AFTER: 'never' }), {
      message: /^SESSION_RENEW_AFTER \(or "off"\) must be a positive number/,
    })
  })

  it('reads SESSION_REAUTH_MAX_AGE as a duration and SESSION_BINDING as log, step-up or revoke', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    assert.equal(loadConfig({ ...base, SESSION_REAUTH_MAX_AGE: '90s' }).reauthMaxAgeMs, 90_000)
    assert.equal(loadConfig({ ...base, SESSION_REAUTH_MAX_AGE: '2500' }).reauthMaxAgeMs, 2500)
    for (const binding of ['log', 'step-up', 'revoke']) {
      assert.equal(loadConfig({ ...base, SESSION_BINDING: binding }).binding, binding)
    }
  })

  it('generates a development secret once, keeps it in DATA_DIR and warns', (t) => {
    const dataDir = join(tempDir(t), 'nested')
    const first = loadConfig({ DATA_DIR: dataDir })
    const file = join(dataDir, 'secret')
    assert.equal(readFileSync(file, 'utf8').trim(), first.secrets[0])
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.match(
      first.warnings[0]!,
      /SESSION_SECRET is not set: using a development secret kept in/,
    )
    assert.deepEqual(loadConfig({ DATA_DIR: dataDir }).secrets, first.secrets)
  })

  it('uses SESSION_SECRET first and SESSION_SECRET_PREVIOUS second, with no warning', (t) => {
    const dataDir = tempDir(t)
    const [current, previous] = [newSecret(), newSecret()]
    const env = {
      DATA_DIR: dataDir,
      SESSION_SECRET: current,
      SESSION_SECRET_PREVIOUS: previous,
      SESSION_ADMIN_SECRET: newSecret(), // else the admin class's warning
    }
    const config = loadConfig(env)
    assert.deepEqual(config.secrets, [current, previous])
    assert.deepEqual(config.warnings, [])
    assert.equal(existsSync(join(dataDir, 'secret')), false, 'no development secret written')
  })

  it('refuses a rotation without a new secret', (t) => {
    const DATA_DIR = tempDir(t)
    const previous = newSecret()
    assert.throws(() => loadConfig({ DATA_DIR, SESSION_SECRET_PREVIOUS: previous }), {
      name: 'ConfigError',
      message: /SESSION_SECRET_PREVIOUS is set but SESSION_SECRET is not/,
    })
    const same = { DATA_DIR, SESSION_SECRET: previous, SESSION_SECRET_PREVIOUS: previous }
    assert.throws(() => loadConfig(same), { message: /equals SESSION_SECRET/ })
    const weak = { DATA_DIR, SESSION_SECRET: newSecret(), SESSION_SECRET_PREVIOUS: 'changeme' }
    assert.throws(() => loadConfig(weak), { message: /^SESSION_SECRET_PREVIOUS is refused/ })
  })

  it('has no admin class without SESSION_ADMIN_SECRET, and warns once that admins are not separated', (t) => {
    const config = loadConfig({ DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() })
    assert.equal(config.adminClass, null)
    assert.equal(config.warnings.length, 1)
    assert.match(
      config.warnings[0]!,
      /^SESSION_ADMIN_SECRET is not set: admin sessions are not separated .*npx tether-session secret.* SESSION_ADMIN_SECRET\.$/,
    )
    assert.doesNotMatch(config.warnings[0]!, /\n/, 'one line')
  })

  it('reads SESSION_ADMIN_SECRET with admin timeouts of 10 minutes idle and 1 hour at most', (t) => {
    const admin = newSecret()
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret(), SESSION_ADMIN_SECRET: admin }
    const config = loadConfig(base)
    assert.deepEqual(config.adminClass, {
      secret: admin,
      idleTimeoutMs: 10 * 60_000,
      absoluteTimeoutMs: 3_600_000,
    })
    assert.deepEqual(config.warnings, [])
    assert.equal(config.idleTimeoutMs, 30 * 60_000, 'the ordinary timeouts are unchanged')
    const custom = loadConfig({
      ...base,
      SESSION_ADMIN_IDLE_TIMEOUT: '5m',
      SESSION_ADMIN_ABSOLUTE_TIMEOUT: '2h',
    })
    assert.deepEqual(custom.adminClass, {
      secret: admin,
      idleTimeoutMs: 5 * 60_000,
      absoluteTimeoutMs: 7_200_000,
    })
  })

  it('refuses a weak SESSION_ADMIN_SECRET, saying how to make one', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    for (const [weak, why] of [
      ['changeme', /published placeholder/],
      ['tiny-but-random-9f3k', /at least 32/],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...base, SESSION_ADMIN_SECRET: weak }),
        (err: Error) => {
          assert.equal(err.name, 'ConfigError')
          assert.match(err.message, /^SESSION_ADMIN_SECRET is refused: /)
          assert.match(err.message, why)
          assert.match(err.message, /npx tether-session secret/)
          assert.ok(!err.message.includes(weak), 'the refused value is not repeated')
          return true
        },
      )
    }
  })

  it('refuses a SESSION_ADMIN_SECRET equal to SESSION_SECRET or SESSION_SECRET_PREVIOUS', (t) => {
    const [current, previous] = [newSecret(), newSecret()]
    const base = {
      DATA_DIR: tempDir(t),
      SESSION_SECRET: current,
      SESSION_SECRET_PREVIOUS: previous,
    }
    for (const same of [current, previous]) {
      assert.throws(
        () => loadConfig({ ...base, SESSION_ADMIN_SECRET: same }),
        (err: Error) => {
          assert.equal(err.name, 'ConfigError')
          assert.match(
            err.message,
            /^SESSION_ADMIN_SECRET equals SESSION_SECRET .*a secret of their own\. .*npx tether-session secret.* SESSION_ADMIN_SECRET\.$/,
          )
          assert.ok(!err.message.includes(same), 'the secret is not repeated')
          return true
        },
      )
    }
  })

  it('refuses bad admin timeouts naming the variable, with or without SESSION_ADMIN_SECRET', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    const withAdmin = { ...base, SESSION_ADMIN_SECRET: newSecret() }
    const cases: [Record<string, string>, RegExp][] = [
      [{ SESSION_ADMIN_IDLE_TIMEOUT: 'soon' }, /^SESSION_ADMIN_IDLE_TIMEOUT must be a positive/],
      [
        { SESSION_ADMIN_ABSOLUTE_TIMEOUT: '0' },
        /^SESSION_ADMIN_ABSOLUTE_TIMEOUT must be a positive/,
      ],
    ]
    for (const [env, message] of cases) {
      for (const over of [base, withAdmin]) {
        assert.throws(() => loadConfig({ ...over, ...env }), { name: 'ConfigError', message })
      }
    }
  })

  it('reads timeouts as plain ms or 45s / 30m / 8h', () => {
    assert.equal(parseDurationEnv('X', '1500', 1), 1500)
    assert.equal(parseDurationEnv('X', '45s', 1), 45_000)
    assert.equal(parseDurationEnv('X', '30m', 1), 1_800_000)
    assert.equal(parseDurationEnv('X', '8h', 1), 28_800_000)
    assert.equal(parseDurationEnv('X', undefined, 7), 7)
    for (const bad of ['0', '-5m', 'soon', '30 minutes', '1e3']) {
      assert.throws(() => parseDurationEnv('SESSION_IDLE_TIMEOUT', bad, 1), {
        name: 'ConfigError',
        message: /^SESSION_IDLE_TIMEOUT must be a positive number of milliseconds or like "45s"/,
      })
    }
  })

  it('refuses bad values naming the variable', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    const cases: [Record<string, string>, RegExp][] = [
      [{ SESSION_STORE: 'mongo' }, /^SESSION_STORE must be one of sqlite, memory, redis, postgres/],
      [{ PORT: 'http' }, /^PORT must be 0-65535/],
      [{ PORT: '70000' }, /^PORT must be 0-65535/],
      [
        { SESSION_BINDING: 'strict' },
        /^SESSION_BINDING must be one of log, step-up, revoke; got "strict"/,
      ],
      [{ SESSION_BINDING: 'Step-Up' }, /^SESSION_BINDING must be one of log, step-up, revoke/],
      [
        { SESSION_REAUTH_MAX_AGE: '5 minutes' },
        /^SESSION_REAUTH_MAX_AGE must be a positive number/,
      ],
      [{ SESSION_REAUTH_MAX_AGE: '0' }, /^SESSION_REAUTH_MAX_AGE must be a positive number/],
    ]
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig({ ...base, ...env }), { name: 'ConfigError', message })
    }
  })

  it('reads TRUST_PROXY as Express does', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    const trust = (v: string) => loadConfig({ ...base, TRUST_PROXY: v }).trustProxy
    assert.equal(trust('true'), true)
    assert.equal(trust('false'), false)
    assert.equal(trust('1'), 1)
    assert.equal(trust('loopback, 10.0.0.0/8'), 'loopback, 10.0.0.0/8')
  })

  it('warns when TRUST_PROXY is true, recommending a hop count, and not for a hop count or addresses', (t) => {
    const base = { DATA_DIR: tempDir(t), SESSION_SECRET: newSecret() }
    const warnings = (v: string) =>
      loadConfig({ ...base, TRUST_PROXY: v }).warnings.filter((w) => w.includes('TRUST_PROXY'))
    const [warning, ...rest] = warnings('true')
    assert.deepEqual(rest, [])
    assert.match(warning!, /^TRUST_PROXY=true lets any client choose its address/)
    assert.match(warning!, /left-most X-Forwarded-For/)
    assert.match(warning!, /TRUST_PROXY=1/)
    for (const quiet of ['false', '1', '2', 'loopback', '10.0.0.0/8'])
      assert.deepEqual(warnings(quiet), [], quiet)
  })

  it('says the TRUST_PROXY warning once when npm start starts', async (t) => {
    const server = await spawnServer(t, {
      DATA_DIR: tempDir(t),
      SESSION_SECRET: newSecret(),
      SESSION_STORE: 'memory',
      TRUST_PROXY: 'true',
    })
    const said = server.stdout.filter((line) => line.includes('TRUST_PROXY=true'))
    assert.equal(said.length, 1)
    assert.equal((JSON.parse(said[0]!) as { level: number }).level, 40, 'a warning')
  })

  it('stops npm start on an unknown SESSION_BINDING, naming the values it accepts', (t) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: {
        ...process.env,
        DATA_DIR: tempDir(t),
        SESSION_SECRET: newSecret(),
        SESSION_BINDING: 'strict',
        PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(run.status, 1)
    assert.match(run.stderr, /SESSION_BINDING must be one of log, step-up, revoke; got "strict"/)
    assert.doesNotMatch(run.stderr, /\bat \S+ \(/, 'no stack trace')
  })

  it('stops npm start in production without a secret, saying how to make one', (t) => {
    const dataDir = tempDir(t)
    const { SESSION_SECRET: _s, SESSION_SECRET_PREVIOUS: _p, ...env } = process.env
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { ...env, NODE_ENV: 'production', DATA_DIR: dataDir, PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(run.status, 1)
    assert.match(run.stderr, /SESSION_SECRET is not set, .*npx tether-session secret/)
    assert.doesNotMatch(run.stderr, /\bat \S+ \(/, 'no stack trace')
    assert.equal(existsSync(join(dataDir, 'secret')), false)
  })
})
