import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { createKeyring } from '../src/codec/keyring.js'

const CLI = new URL('../dist/cli.js', import.meta.url).pathname

function run(args: string[], env: Record<string, string> = {}) {
  const { SESSION_SECRET: _drop, ...base } = process.env
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...base, ...env }, encoding: 'utf8' })
}

describe('tether-session CLI', () => {
  it('prints a different strong secret each time', () => {
    const a = run(['secret'])
    const b = run(['secret'])
    assert.equal(a.status, 0)
    assert.match(a.stdout, /^[A-Za-z0-9_-]{43}\n$/)
    assert.notEqual(a.stdout, b.stdout)
    assert.ok(createKeyring(a.stdout.trim()), 'accepted by the keyring')
  })

  it('prints the two env lines of a rotation', () => {
    const current = run(['secret']).stdout.trim()
    const out = run(['rotate'], { SESSION_SECRET: current })
    assert.equal(out.status, 0)
    const lines = out.stdout.trim().split('\n')
    assert.match(lines[0]!, /^SESSION_SECRET=[A-Za-z0-9_-]{43}$/)
    assert.equal(lines[1], `SESSION_SECRET_PREVIOUS=${current}`)
    assert.notEqual(lines[0], `SESSION_SECRET=${current}`)
  })

  it('refuses to rotate without a current secret and explains how', () => {
    const out = run(['rotate'])
    assert.equal(out.status, 1)
    assert.equal(out.stdout, '')
    assert.match(out.stderr, /SESSION_SECRET is not set/)
  })

  it('prints usage for an unknown command and exits 2', () => {
    const out = run(['frobnicate'])
    assert.equal(out.status, 2)
    assert.match(out.stderr, /usage: tether-session/)
  })
})
