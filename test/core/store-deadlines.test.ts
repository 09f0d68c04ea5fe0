import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StoreDeadlines } from '../../src/core/store-deadlines.js'

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value))
}

/** Counts the timers created while `fn` runs. */
async function countTimers<T>(fn: () => Promise<T>): Promise<{ result: T; timers: number }> {
  const original = globalThis.setTimeout
  let timers = 0
  globalThis.setTimeout = function counted(...args: Parameters<typeof setTimeout>) {
    timers++
    return original(...args)
  } as typeof setTimeout
  try {
    return { result: await fn(), timers }
  } finally {
    globalThis.setTimeout = original
  }
}

describe('StoreDeadlines', () => {
  it('passes results and errors through', async () => {
    const deadlines = new StoreDeadlines(1000)
    assert.equal(await deadlines.within('get', Promise.resolve(7)), 7)
    const err = new Error('store is down')
    await assert.rejects(deadlines.within('get', Promise.reject(err)), (e) => e === err)
  })

  it('rejects only the calls still pending at their deadline, naming the operation', async () => {
    const deadlines = new StoreDeadlines(40)
    const slow = deadlines.within('update', new Promise(() => {}))
    const fast = deadlines.within('get', later(5, 'ok'))
    assert.equal(await fast, 'ok')
    await assert.rejects(slow, { message: 'store update took longer than 40 ms' })
  })

  it('arms one timer for many concurrent calls, none per call', async () => {
    const deadlines = new StoreDeadlines(1000)
    const { result, timers } = await countTimers(() =>
      Promise.all(Array.from({ length: 200 }, (_, i) => deadlines.within('get', later(0, i)))),
    )
    assert.equal(result.length, 200)
    // 200 timers from later() itself, one from the deadlines.
    assert.equal(timers, 201)
    const again = await countTimers(() => deadlines.within('get', Promise.resolve(1)))
    assert.equal(again.timers, 0, 'the armed timer is reused')
  })

  it('keeps honouring later deadlines after an expiry', async () => {
    const deadlines = new StoreDeadlines(30)
    const first = deadlines.within('get', new Promise(() => {}))
    await later(15, null)
    const second = deadlines.within('touch', new Promise(() => {}))
    const started = Date.now()
    await assert.rejects(first, /store get took longer/)
    await assert.rejects(second, /store touch took longer/)
    assert.ok(Date.now() - started >= 10, 'the second call was given its own full limit')
  })

  it('does not keep the process alive once nothing is pending', async () => {
    const script = `
      const { StoreDeadlines } = await import(${JSON.stringify(new URL('../../src/core/store-deadlines.ts', import.meta.url).href)})
      const d = new StoreDeadlines(60_000)
      await d.within('get', Promise.resolve(1))
    `
    const { execFileSync } = await import('node:child_process')
    const started = Date.now()
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script])
    assert.ok(Date.now() - started < 30_000, 'exited without waiting for the 60 s limit')
  })
})
