import assert from 'node:assert/strict'

/** The section of a Markdown `doc` under `## heading`, up to the next `## ` heading. */
export function sectionOf(doc: string, heading: string): string {
  const start = doc.indexOf(`## ${heading}\n`)
  assert.notEqual(start, -1, `no section "${heading}"`)
  const end = doc.indexOf('\n## ', start + 1)
  return doc.slice(start, end === -1 ? undefined : end)
}
