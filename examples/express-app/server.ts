/**
 * Serves the example app (`npm start`) on PORT (default 3000), with sessions in an SQLite file
 * under DATA_DIR (default ./data). The secret comes from SESSION_SECRET (SESSION_SECRET_PREVIOUS
 * keeps cookies signed with the one before it valid); without it, a development secret is
 * generated once and kept in DATA_DIR/secret.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SqliteStore } from 'tether-session/stores/sqlite'
import { createApp } from './app.js'

const port = Number(process.env['PORT'] ?? 3000)
const dataDir = process.env['DATA_DIR'] ?? './data'

/** The secret kept in DATA_DIR/secret, created on first use. Never printed. */
function developmentSecret(dir: string): string {
  const file = join(dir, 'secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(32).toString('base64url')
  // 'wx': never overwrite a secret another process wrote meanwhile; 0600: readable by us only.
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  return secret
}

function configuredSecret(): string | string[] {
  const current = process.env['SESSION_SECRET']
  const previous = process.env['SESSION_SECRET_PREVIOUS']
  if (current !== undefined && current !== '') return previous ? [current, previous] : current
  if (process.env['NODE_ENV'] === 'production') {
    console.error('SESSION_SECRET is not set; refusing to start in production.')
    process.exit(1)
  }
  console.warn(
    `Warning: SESSION_SECRET is not set; using a development secret kept in ${join(dataDir, 'secret')}. ` +
      'Set SESSION_SECRET in production.',
  )
  return developmentSecret(dataDir)
}

mkdirSync(dataDir, { recursive: true })
const secret = configuredSecret()
const store = new SqliteStore({ path: join(dataDir, 'sessions.db') })
const server = createApp({ store, secret }).listen(port, function listening() {
  console.log(`Tether example app on http://localhost:${port} (sessions in ${dataDir})`)
})

function shutdown(): void {
  server.close(function closed() {
    void store.close()
  })
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
