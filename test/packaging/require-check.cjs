// Run by exports.test.ts: require() every entry point from CommonJS (Node >= 20.19 loads ES
// modules with require) and print the export names as JSON.
'use strict'
const entries = JSON.parse(process.argv[2])
const out = {}
for (const e of entries) out[e] = Object.keys(require(e)).sort()
const session = require('tether-session/express')
out.factory =
  typeof session === 'function' &&
  typeof session.MemoryStore === 'function' &&
  typeof session.Store === 'function'
process.stdout.write(JSON.stringify(out))
