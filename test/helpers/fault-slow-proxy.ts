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
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', function cutBoth() {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    // One queue per connection, drained by one timer at a time, so chunks leave strictly in the
    // order they came (two timers due at the same moment may fire in either order).
    const queue: { at: number; chunk: Buffer | null }[] = []
    let timer: NodeJS.Timeout | undefined
    function drain(): void {
      if (timer !== undefined) timers.delete(timer)
      timer = undefined
      while (queue.length > 0 && queue[0]!.at <= Date.now()) {
        const { chunk } = queue.shift()!
        if (chunk === null) client.end()
        else if (!client.destroyed) client.write(chunk)
      }
      schedule()
    }
    function schedule(): void {
      if (timer !== undefined || queue.length === 0) return
      timer = setTimeout(drain, Math.max(0, queue[0]!.at - Date.now()))
      timers.add(timer)
    }
    function enqueue(chunk: Buffer | null): void {
      const last = queue[queue.length - 1]?.at ?? 0
      queue.push({ at: Math.max(Date.now() + delayMs, last), chunk })
      schedule()
    }
    upstream.on('data', (chunk: Buffer) => enqueue(chunk))
    upstream.on('end', () => enqueue(null))
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
