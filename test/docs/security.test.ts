/**
 * docs/security.md "Timeouts and the standards" (ASVS 7.1.1: timeouts documented, with any
 * deviation from NIST SP 800-63B justified): each timeout default has a row naming its ASVS 5.0
 * requirement and NIST guidance, and the values the rows state are the ones the code uses (the
 * library's defaults and the reference app's). What it lets pass: the wording around them.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { loadConfig } from '../../app/config.js'
import { KEPT_FORGED, KEPT_TOKENS } from '../../src/codec/verified-tokens.js'
import { createSessionManager } from '../../src/core/manager.js'
import { sectionOf } from '../helpers/docs.js'
import { newSecret } from '../helpers/secrets.js'

const MIN = 60_000
const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8')

/** The rows of the table in the section `heading`, as arrays of cells. */
function tableIn(heading: string): string[][] {
  return sectionOf(security, heading)
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
}

/** The row of the timeouts table whose first cell starts with `label`, cells joined by " | ". */
function row(label: string): string {
  const found = tableIn('Timeouts and the standards').find((cells) => cells[0]!.startsWith(label))
  assert.ok(found, `no row for ${label}`)
  return found.join(' | ')
}

describe('docs/security.md timeouts', () => {
  const manager = createSessionManager({
    secret: newSecret(),
    classes: { admin: { secret: newSecret(), idleTimeout: '10m', absoluteTimeout: '1h' } },
  })
  void manager.close()
  const { classes, renewAfterMs, renewGraceMs } = manager.options
  const standard = classes.get('default')!
  const admin = classes.get('admin')!

  it('maps the idle timeout to ASVS 7.3.1 and NIST AAL2 with the bound the code holds', () => {
    assert.equal(standard.idleTimeoutMs, 30 * MIN)
    const bound = (standard.idleTimeoutMs + standard.touchAfterMs) / MIN
    assert.match(
      row('Idle timeout'),
      new RegExp(`30 min; ends within ${bound} min.*7\\.3\\.1.*AAL2`),
    )
  })

  it('maps the absolute timeout to ASVS 7.3.2 and the 12-hour NIST limit', () => {
    assert.equal(standard.absoluteTimeoutMs, 8 * 60 * MIN)
    assert.match(row('Absolute timeout'), /8 h from login.*7\.3\.2.*12 h/)
  })

  it('maps renewal to ASVS 7.2.4 with the default interval and grace', () => {
    assert.equal(renewAfterMs, 15 * MIN)
    assert.equal(renewGraceMs, MIN)
    assert.match(row('Renewal'), /every 15 min, old one honoured 1 min.*7\.2\.4/)
  })

  it("maps the app's re-authentication age to ASVS 7.5 and its admin class to NIST AAL3", () => {
    const config = loadConfig({ SESSION_SECRET: newSecret(), SESSION_ADMIN_SECRET: newSecret() })
    assert.equal(config.reauthMaxAgeMs, 5 * MIN)
    assert.match(row('Fresh login'), /5 min.*7\.5\.1.*7\.5\.2.*7\.5\.3/)
    assert.equal(config.adminClass?.idleTimeoutMs, admin.idleTimeoutMs)
    assert.equal(config.adminClass?.absoluteTimeoutMs, admin.absoluteTimeoutMs)
    const bound = (admin.idleTimeoutMs + admin.touchAfterMs) / MIN
    assert.match(
      row('Admin class'),
      new RegExp(`10 min idle \\(ends within ${bound}\\), 1 h absolute.*AAL3`),
    )
  })
})

describe('docs/security.md verified tokens', () => {
  it('states the number of tokens kept that the code keeps', () => {
    const section = sectionOf(security, 'Verified tokens kept in memory')
    const kept = KEPT_TOKENS.toLocaleString('en-US')
    const forged = KEPT_FORGED.toLocaleString('en-US')
    assert.match(section, new RegExp(`last ${kept} tokens`))
    assert.match(section, new RegExp(`last\\s+${forged} tokens whose MAC was wrong`))
    assert.match(
      section,
      new RegExp(`Bounded at ${kept} tokens \\(about 1.5 MB\\) and ${forged} forged`),
    )
  })
})
