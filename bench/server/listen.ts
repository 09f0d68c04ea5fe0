/** Listening on 127.0.0.1 on a free port, and closing again, the same way for every server. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A scenario server that listens; `close()` ends its connections and the server. */
export interface Listening {
  server: Server
  close(): Promise<void>
}

/** Listens on 127.0.0.1, port 0, and resolves once the port is known. */
export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, close: () => closeServer(server) }
}

export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/** The port a listening server got. */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port
}
