/**
 * The reference app for test/reliability/soak.test.ts, in its own process (run with --expose-gc):
 * app/app.ts on 127.0.0.1, port 0, with SOAK_STORE = memory | sqlite (SQLite under SOAK_DATA_DIR).
 * Every second it collects the garbage and prints one `SAMPLE {...}` line: RSS, heap in use after
 * a full GC, external memory, active handles by kind and, on memory, the sessions held. It prints
 * `READY <port>` when it listens, and stops on SIGTERM or after SOAK_MAX_MS by itself.
 *
 * Log lines go to a counter, not to stdout: pino's formatting still runs, the samples stay readable.
 */
import type { AddressInfo } from 'node:net'
import { getHeapSpaceStatistics } from 'node:v8'
import { createApp } from '../../app/app.js'
import { testConfig } from '../app/harness.js'
import { MemoryStore } from '../../src/stores/memory.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

const kind = process.env['SOAK_STORE'] === 'sqlite' ? 'sqlite' : 'memory'
/** MemoryStore's bound (SOAK_MAX_ENTRIES; the app's default store otherwise holds 10,000). */
const maxEntries = Number(process.env['SOAK_MAX_ENTRIES'] ?? 10_000)
const memory = kind === 'memory' ? new MemoryStore({ maxEntries }) : undefined

// The app tests' configuration, with renewals during the soak (each logged-in client lives 15 s),
// leaving markers behind.
const config = testConfig(kind, process.env['SOAK_DATA_DIR']!, {
  secrets: [process.env['SOAK_SECRET']!],
  renewAfterMs: 3_000,
})

let logLines = 0
const running = await createApp(config, {
  logStream: { write: () => void logLines++ },
  ...(memory === undefined ? {} : { store: memory }),
})
const server = running.app.listen(0, '127.0.0.1')
await new Promise<void>((resolve) => server.once('listening', resolve))
const started = Date.now()

function sample(): void {
  gc!()
  const { rss, heapUsed, external } = process.memoryUsage()
  const handles: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) handles[name] = (handles[name] ?? 0) + 1
  const spaces: Record<string, number> = {}
  for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_used_size
  const line = { t: Date.now() - started, rss, heapUsed, external, handles, logLines, spaces }
  const held = memory === undefined ? {} : { sessions: memory.size }
  process.stdout.write(`SAMPLE ${JSON.stringify({ ...line, ...held })}\n`)
}
const sampler = setInterval(sample, 1000)

let stopping = false
function stop(): void {
  if (stopping) return
  stopping = true
  clearInterval(sampler)
  server.closeAllConnections()
  server.close(() => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
process.once('SIGTERM', stop)
setTimeout(stop, Number(process.env['SOAK_MAX_MS'] ?? 120_000)).unref()
process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`)
sample()
