/** The IPC messages between the harness and its children (scenario servers, the load). */

/** A server's counters at one instant; the harness subtracts two of them. */
export interface Mark {
  cpu: NodeJS.CpuUsage
  requests: number
  /** SQL statements sent by the server's pg clients so far. */
  sql: number
  /** Batches written to Redis so far (≈ round trips). */
  redisBatches: number
  rss: number
  /** process.hrtime in µs (the clock of V8's CPU profiles). */
  hrUs: number
}

export type ServerMessage = { type: 'ready'; port: number } | { type: 'mark'; mark: Mark }

/** One load run: `credential` decides the headers of each request. */
export interface LoadJob {
  type: 'run'
  id: number
  port: number
  path: string
  /** Headers of every request (cookie or authorization), unless forged below. */
  headers: Record<string, string>
  /** Forge a cookie per request (`new`) or cycle through a fixed set (`fixed`), from `template`. */
  forge?: { mode: 'new' | 'fixed'; name: string; template: string }
  seconds: number
  connections: number
}

export interface LoadResult {
  type: 'result'
  id: number
  requests: number
  seconds: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  errors: number
  /** Responses by status code. */
  statuses: Record<string, number>
}
