#!/usr/bin/env node
/**
 * `npx tether-session secret`: prints a new strong secret (32 random bytes, base64url).
 * `npx tether-session rotate`: prints the two env lines for a rotation — the current
 * SESSION_SECRET becomes SESSION_SECRET_PREVIOUS (still verifies, so nobody is logged out) and a
 * new one signs. Nothing is printed but the values the user asked for.
 */
import { randomBytes } from 'node:crypto'

function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

const USAGE = `usage: tether-session <command>
  secret   print a new secret for SESSION_SECRET
  rotate   print SESSION_SECRET / SESSION_SECRET_PREVIOUS lines for a rotation
           (reads the current SESSION_SECRET from the environment)`

function main(argv: string[]): number {
  const command = argv[0]
  if (command === 'secret') {
    process.stdout.write(newSecret() + '\n')
    return 0
  }
  if (command === 'rotate') {
    const current = process.env['SESSION_SECRET']
    if (current === undefined || current === '') {
      process.stderr.write(
        'SESSION_SECRET is not set in this environment; run as: SESSION_SECRET=<current> npx tether-session rotate\n',
      )
      return 1
    }
    process.stdout.write(`SESSION_SECRET=${newSecret()}\nSESSION_SECRET_PREVIOUS=${current}\n`)
    return 0
  }
  process.stderr.write(USAGE + '\n')
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2
}

process.exitCode = main(process.argv.slice(2))
