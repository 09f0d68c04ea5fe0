/**
 * Serves the example app (`npm start`) on PORT (default 3000), with sessions in the store named by
 * SESSION_STORE (default `sqlite`, a file under DATA_DIR, default ./data; see stores.ts). The secret comes from SESSION_SECRET (SESSION_SECRET_PREVIOUS
 * keeps cookies signed with the one before it valid); without it, a development secret is
 * generated once and kept in DATA_DIR/secret.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from './app.js'
import { openStore, storeKind } from './stores.js'

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
const kind = storeKind(process.env['SESSION_STORE'])
const opened = await openStore(kind, {
  dataDir,
  redisUrl: process.env['REDIS_URL'],
  databaseUrl: process.env['DATABASE_URL'],
})
const server = createApp({ store: opened.store, secret }).listen(port, function listening() {
  console.log(`Tether example app on http://localhost:${port} (sessions: ${kind})`)
})

function shutdown(): void {
  server.close(function closed() {
    void opened.close()
  })
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
