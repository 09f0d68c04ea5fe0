import { connect } from 'node:net'

/** Whether tests that need a missing service fail (CI) instead of skipping. */
export const REQUIRE_SERVICES = process.env['TETHER_REQUIRE_SERVICES'] === '1'

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * The `skip` option for a suite that needs the service at `url`: false when it is reachable, a
 * one-line reason when not. Under TETHER_REQUIRE_SERVICES=1 an unreachable service throws, so CI
 * fails rather than skipping silently.
 */
export async function skipUnlessReachable(
  name: string,
  url: string,
  envVar: string,
): Promise<string | false> {
  const { hostname, port } = new URL(url)
  const defaultPort = url.startsWith('postgres') ? 5432 : 6379
  if (await canConnect(hostname, Number(port || defaultPort))) return false
  const reason = `${name} not reachable at ${hostname}:${port || defaultPort} (set ${envVar})`
  if (REQUIRE_SERVICES) throw new Error(`${reason}, and TETHER_REQUIRE_SERVICES=1 requires it`)
  return reason
}
