import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A loopback TCP proxy a test can cut and restore, to take a shared service "down" for one client
 * without touching the service itself.
 */
export interface TcpProxy {
  port: number
  /** Closes the listener and every open connection. */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  function listen(): Promise<void> {
    server = createServer(function forward(client) {
      const upstream = connect({ host: targetHost, port: targetPort })
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    return new Promise((resolve) =>
      server!.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port
        resolve()
      }),
    )
  }

  function down(): Promise<void> {
    for (const s of sockets) s.destroy()
    sockets.clear()
    const s = server
    server = undefined
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()))
  }

  await listen()
  return {
    get port() {
      return port
    },
    down,
    up: listen,
    close: down,
  }
}
