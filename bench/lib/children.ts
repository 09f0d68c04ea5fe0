/**
 * The harness's child processes: scenario servers pinned to CPU 0, the load generator pinned to
 * CPU 1, the private redis-server. Every one is recorded, and stopped by its pid when the run
 * ends, fails or is interrupted (Ctrl-C); nothing else is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { hasCommand } from './machine.js'
import type { LoadJob, LoadResult, Mark, ServerMessage } from './protocol.js'

const live = new Set<ChildProcess>()
const HAS_TASKSET = hasCommand('taskset')

/** `taskset -c <cpu> command ...` where taskset exists (it execs, so the pid is the command's). */
export function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return HAS_TASKSET ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args]
}

export function pinningAvailable(): boolean {
  return HAS_TASKSET
}

/** Starts a child and records it; it leaves the record when it exits. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** Stops every recorded child by its pid (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child, graceMs)))
}

export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

let hooked = false

/** On Ctrl-C, SIGTERM or an uncaught error: stop every child, then exit. */
export function stopChildrenOnExit(cleanup: () => Promise<void>): void {
  if (hooked) return
  hooked = true
  const bail = (code: number) => {
    void stopAll()
      .then(cleanup)
      .finally(() => process.exit(code))
  }
  process.once('SIGINT', () => bail(130))
  process.once('SIGTERM', () => bail(143))
  process.once('uncaughtException', (err) => {
    console.error(err)
    bail(1)
  })
}

const NODE_TSX = ['--import', 'tsx']

function script(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url))
}

/** Waits for the first IPC message that `pick` accepts, or fails when the child exits first. */
function nextMessage<T>(child: ChildProcess, pick: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const value = pick(m)
      if (value === undefined) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(value)
    }
    const onExit = (code: number | null) => {
      child.off('message', onMessage)
      reject(new Error(`child ${child.pid} exited (${code}) before answering`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

export interface ScenarioServer {
  port: number
  pid: number
  mark(): Promise<Mark>
  /** Asks the server to close and exit (writing its CPU profile if it has one). */
  stop(): Promise<void>
}

export interface ServerStart {
  scenario: string
  env: Record<string, string>
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[]
}

/** Starts a scenario server on CPU 0 and waits for its port. */
export async function startServer(start: ServerStart): Promise<ScenarioServer> {
  const args = [
    ...(start.nodeFlags ?? []),
    ...NODE_TSX,
    script('../server/main.ts'),
    start.scenario,
  ]
  const [command, argv] = pinned(0, process.execPath, args)
  const child = track(
    spawn(command, argv, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'development', ...start.env },
    }),
  )
  const port = await nextMessage(child, (m) =>
    (m as ServerMessage).type === 'ready' ? (m as { port: number }).port : undefined,
  )
  return {
    port,
    pid: child.pid!,
    async mark() {
      const answer = nextMessage(child, (m) =>
        (m as ServerMessage).type === 'mark' ? (m as { mark: Mark }).mark : undefined,
      )
      child.send({ type: 'mark' })
      return answer
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (!child.connected) return stopChild(child)
      const exited = once(child, 'exit')
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

export interface LoadGenerator {
  run(job: Omit<LoadJob, 'type' | 'id'>): Promise<LoadResult>
  stop(): Promise<void>
}

/** Starts the load generator on CPU 1 (one process for the whole run). */
export async function startLoad(): Promise<LoadGenerator> {
  const [command, argv] = pinned(1, process.execPath, [...NODE_TSX, script('../load/main.ts')])
  const child = track(spawn(command, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  await nextMessage(child, (m) => ((m as { type: string }).type === 'ready' ? true : undefined))
  let nextId = 1
  return {
    async run(job) {
      const id = nextId++
      const answer = nextMessage(child, (m) => {
        const msg = m as { type: string; id: number; message?: string }
        if (msg.id !== id) return undefined
        return msg
      })
      child.send({ ...job, type: 'run', id })
      const msg = await answer
      if (msg.type !== 'result') throw new Error(`load failed: ${msg.message ?? 'unknown'}`)
      return msg as unknown as LoadResult
    },
    stop: () => stopChild(child),
  }
}
