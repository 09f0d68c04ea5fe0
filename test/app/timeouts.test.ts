/**
 * The reference app's timeouts over real HTTP (DESIGN.md "Timeouts (contract)"): an idle session
 * ends within SESSION_IDLE_TIMEOUT + 10 %, an active one never earlier, and SESSION_ABSOLUTE_TIMEOUT
 * ends every session on time even when it is shorter than the idle timeout. Time is injected into
 * the app's session manager; nothing sleeps.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../app/config.js'
import { manualClock } from '../helpers/clock.js'
import { Client, newSecret, serveOn, tempDir } from './harness.js'

const MIN = 60_000

describe('reference app timeouts', () => {
  it('ends a session idle for 3.3 s with SESSION_IDLE_TIMEOUT=3s, and keeps an active one', async (t) => {
    const config = loadConfig({
      DATA_DIR: tempDir(t),
      SESSION_SECRET: newSecret(),
      SESSION_IDLE_TIMEOUT: '3s',
    })
    const clock = manualClock(Date.now())
    const app = await serveOn(t, 'memory', { idleTimeoutMs: config.idleTimeoutMs }, { clock })
    const alice = new Client(app.url)
    assert.equal((await alice.login('alice', 'correct-horse')).status, 200)
    for (let i = 0; i < 10; i++) {
      clock.advance(2999)
      assert.equal((await alice.get('/profile')).status, 200, `request ${i} after 2.999 s`)
    }
    clock.advance(3300)
    assert.equal((await alice.get('/profile')).status, 401, 'gone after 3.3 s idle')
  })

  it('ends an active session at SESSION_ABSOLUTE_TIMEOUT=1h with SESSION_IDLE_TIMEOUT=2h', async (t) => {
    const config = loadConfig({
      DATA_DIR: tempDir(t),
      SESSION_SECRET: newSecret(),
      SESSION_IDLE_TIMEOUT: '2h',
      SESSION_ABSOLUTE_TIMEOUT: '1h',
    })
    assert.equal(config.idleTimeoutMs, 2 * 60 * MIN)
    const { idleTimeoutMs, absoluteTimeoutMs } = config
    const clock = manualClock(Date.now())
    const app = await serveOn(t, 'memory', { idleTimeoutMs, absoluteTimeoutMs }, { clock })
    const alice = new Client(app.url)
    assert.equal((await alice.login('alice', 'correct-horse')).status, 200)
    for (let i = 1; i < 6; i++) {
      clock.advance(10 * MIN)
      assert.equal((await alice.get('/profile')).status, 200, `active after ${i * 10} min`)
    }
    clock.advance(10 * MIN - 1)
    assert.equal((await alice.get('/profile')).status, 200, '1 ms before the absolute timeout')
    clock.advance(1)
    assert.equal((await alice.get('/profile')).status, 401, 'ended 1 h after login')
  })

  it('accepts admin timeouts with the idle one longer than the absolute one', (t) => {
    const config = loadConfig({
      DATA_DIR: tempDir(t),
      SESSION_SECRET: newSecret(),
      SESSION_ADMIN_SECRET: newSecret(),
      SESSION_ADMIN_IDLE_TIMEOUT: '2h',
    })
    assert.equal(config.adminClass?.idleTimeoutMs, 2 * 60 * MIN)
    assert.equal(config.adminClass?.absoluteTimeoutMs, 60 * MIN)
  })
})
