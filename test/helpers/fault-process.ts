/**
 * Server processes a fault test starts (a private redis-server, a private postmaster): each is a
 * direct child, so the test kills it by its own pid and Node reaps it. Whatever is still running
 * when the test process exits, normally or after a failure, is SIGKILLed by pid and its temporary
 * directory removed; nothing else is ever signalled.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { rmSync } from 'node:fs'

const running = new Set<ChildProcess>()
const tempDirs = new Set<string>()

process.once('exit', killLeftovers)
// Ended by a signal (the runner's timeout, ^C), the process would skip its 'exit' handlers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, function endBySignal() {
    killLeftovers()
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
  })
}

function killLeftovers(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}

/** Removes `dir` (recursively) when the process exits, if the test has not removed it by then. */
export function removeAtExit(dir: string): void {
  tempDirs.add(dir)
}

/** Removes `dir` now. */
export function removeNow(dir: string): void {
  tempDirs.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}

/** A server process the test owns: started, killed by pid with a chosen signal, started again. */
export interface OwnedProcess {
  readonly pid: number | undefined
  readonly isRunning: boolean
  /** Sends `signal` to this pid and waits for the process to exit (SIGKILL after 5 s). */
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** Spawns `command`, tracked for the exit-time cleanup; stderr is kept for error messages. */
export function spawnOwned(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): OwnedProcess & { stderr(): string } {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(child)
  let err = ''
  child.stderr?.on('data', function keepStderr(chunk: Buffer) {
    err = (err + chunk.toString('utf8')).slice(-4000)
  })
  child.once('exit', function forget() {
    running.delete(child)
  })
  const isRunning = () => child.exitCode === null && child.signalCode === null
  return {
    get pid() {
      return child.pid
    },
    get isRunning() {
      return isRunning()
    },
    stderr: () => err,
    kill(signal = 'SIGTERM') {
      if (!isRunning()) return Promise.resolve()
      return new Promise<void>(function waitExit(resolve) {
        // ChildProcess.kill signals this child's pid, and only it; a no-op once it has exited.
        const force = setTimeout(function forceKill() {
          child.kill('SIGKILL')
        }, 5000)
        child.once('exit', function exited() {
          clearTimeout(force)
          resolve()
        })
        child.kill(signal)
      })
    },
  }
}
