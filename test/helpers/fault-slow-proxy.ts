/**
 * A loopback TCP proxy that delays what the server sends back by a delay the test sets while it
 * runs: a store that answers, only slowly. Order on each connection is kept (a chunk is never
 * released before the one in front of it). Requests pass at once.
 */
import { connect, createServer, type Socket } from 'node:net'

export interface SlowProxy {
  readonly port: number
  /** Delay added to every reply chunk from now on; 0 lets replies through at once. */
  setDelay(ms: number): void
  close(): Promise<void>
}

export async function slowProxy(targetPort: number): Promise<SlowProxy> {
  let delayMs = 0
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()

  const server = createServer(function forward(client) {
    const upstream = connect({ host: '127.0.0.1', port: targetPort })
    // When the last queued chunk on this connection goes out: a later chunk never overtakes it.
    let lastReleaseAt = 0
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', function cutBoth() {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.on('data', function delayReply(chunk: Buffer) {
      const releaseAt = Math.max(Date.now() + delayMs, lastReleaseAt)
      lastReleaseAt = releaseAt
      const timer = setTimeout(function release() {
        timers.delete(timer)
        if (!client.destroyed) client.write(chunk)
      }, releaseAt - Date.now())
      timers.add(timer)
    })
    upstream.on('end', function endAfterReplies() {
      const timer = setTimeout(
        function release() {
          timers.delete(timer)
          client.end()
        },
        Math.max(0, lastReleaseAt - Date.now()),
      )
      timers.add(timer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    setDelay(ms) {
      delayMs = ms
    },
    close() {
      for (const t of timers) clearTimeout(t)
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
