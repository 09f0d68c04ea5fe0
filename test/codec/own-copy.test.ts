/**
 * ownCopy (src/codec/own-copy.ts): the same characters, and none of the string it was cut from
 * kept alive, which is what the token caches rely on for their memory bound.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { ownCopy } from '../../src/codec/own-copy.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap kept by `count` strings of 40 characters cut from 64 KB headers, each as `keep` keeps it. */
function heapKept(keep: (token: string) => string, count = 200): number {
  gc()
  const before = process.memoryUsage().heapUsed
  const kept: string[] = []
  for (let i = 0; i < count; i++) {
    const header = `a=${String(i).repeat(64_000 / String(i).length)}; sid=${'t'.repeat(39)}${i % 10}`
    kept.push(keep(header.slice(header.indexOf('sid=') + 4)))
  }
  gc()
  const used = process.memoryUsage().heapUsed - before
  assert.equal(kept.length, count)
  return used
}

describe('ownCopy', () => {
  it('keeps the characters, any of them, lone surrogates included (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.nat(), (text, at) => {
        const cut = text.slice(at % (text.length + 1))
        assert.equal(ownCopy(cut), cut)
      }),
    )
    assert.equal(ownCopy('\uD800x\uDFFF'), '\uD800x\uDFFF')
  })

  it('keeps none of the header a token was cut from', () => {
    const sliced = heapKept((t) => t)
    const copied = heapKept(ownCopy)
    // 200 slices keep 200 headers of 64 KB alive (about 12.8 MB); 200 copies about 16 KB.
    assert.ok(sliced > 5_000_000, `slices keep their headers: ${sliced} bytes`)
    assert.ok(copied < 1_000_000, `copies keep only themselves: ${copied} bytes`)
  })
})
