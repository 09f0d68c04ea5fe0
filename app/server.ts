/**
 * `npm start`: serves the reference app on PORT (default 3000) with the store SESSION_STORE names
 * (default: SQLite under DATA_DIR, ./data). See config.ts for every variable. A configuration
 * problem stops startup with one plain sentence saying how to fix it.
 */
import type { AddressInfo } from 'node:net'
import { ConfigError, loadConfig, type AppConfig } from './config.js'
import { createApp } from './app.js'

function fatal(message: string): never {
  process.stderr.write(`tether reference app: ${message}\n`)
  process.exit(1)
}

let config: AppConfig
try {
  config = loadConfig(process.env)
} catch (err) {
  if (err instanceof ConfigError) fatal(err.message)
  throw err
}

const running = await createApp(config).catch(function failed(err: unknown) {
  // Configuration, store and option refusals are ConfigErrors naming the variable to change.
  if (err instanceof ConfigError) fatal(err.message)
  throw err
})
const { logger } = running
for (const warning of config.warnings) logger.warn(warning)

const server = running.app.listen(config.port, function listening() {
  const { port } = server.address() as AddressInfo
  logger.info(
    { store: config.store, port },
    `Tether reference app on http://localhost:${port} (sessions in ${config.store})`,
  )
})
server.on('error', function serverError(err: Error) {
  fatal(`cannot listen on port ${config.port}: ${err.message}`)
})

function shutdown(): void {
  server.close(function closed() {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
