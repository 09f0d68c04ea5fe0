/** How RedisStore reads a session hash's reply: shapes of every client, and liveness by `exp`. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseLiveRecord, toStrings } from '../../src/stores/redis/record.js'

const PAIRS = ['v', '2', 'exp', '2000', 'f"createdAt"', '1000', 'd"__proto__"', '{"x":1}']

describe('RedisStore replies', () => {
  it('reads a flat array (RESP2), a Map and a plain object (RESP3 maps) as the same pairs', () => {
    const map = new Map<string, string>()
    for (let i = 0; i < PAIRS.length; i += 2) map.set(PAIRS[i]!, PAIRS[i + 1]!)
    const object = Object.fromEntries(map)
    const buffers = PAIRS.map((item) => Buffer.from(item))
    for (const reply of [PAIRS, map, object, buffers]) assert.deepEqual(toStrings(reply), PAIRS)
  })

  it('refuses any other shape', () => {
    for (const reply of ['OK', 7, new Date(0), [{}]]) assert.throws(() => toStrings(reply))
  })

  it('answers a record only while live by the given clock, and null for a tombstone', () => {
    const record = parseLiveRecord(PAIRS, 1999)
    assert.equal(record?.v, 2)
    assert.equal(record?.createdAt, 1000)
    assert.equal(Object.getPrototypeOf(record.data), Object.prototype, 'no prototype pollution')
    assert.deepEqual(Object.keys(record.data), ['__proto__'])
    assert.equal(parseLiveRecord(PAIRS, 2000), null, 'dead at exp')
    assert.equal(parseLiveRecord(['tomb', '3 "u"'], 0), null, 'a tombstone has no version')
    assert.equal(parseLiveRecord([], 0), null, 'no hash')
  })
})
