/**
 * docs/sealed.md against the code: the numbers it gives for the tokens kept opened are the ones
 * src/core/sealed/opened-seals.ts keeps.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { KEPT_SEAL_CHARS, KEPT_SEALS } from '../../src/core/sealed/opened-seals.js'
import { sectionOf } from '../helpers/docs.js'

const sealed = readFileSync(new URL('../../docs/sealed.md', import.meta.url), 'utf8')

describe('docs/sealed.md tokens kept opened', () => {
  it('states the bounds the code keeps', () => {
    const section = sectionOf(sealed, 'Tokens kept opened in memory')
    const kept = KEPT_SEALS.toLocaleString('en-US')
    assert.match(section, new RegExp(`last ${kept} sealed tokens`))
    assert.match(
      section,
      new RegExp(`Bounded at ${kept} tokens and ${KEPT_SEAL_CHARS / 2 ** 20} MiB`),
    )
  })
})
