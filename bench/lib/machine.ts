/** What the harness reads from the machine: /proc/stat, and whether the dist build is current. */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseProcStat, type CpuTimes } from './stats.js'

/** The whole machine's CPU times and those of CPU 0 (where scenario servers run). */
export function readCpuTimes(): { all: CpuTimes; cpu0: CpuTimes } {
  try {
    const text = readFileSync('/proc/stat', 'utf8')
    return { all: parseProcStat(text), cpu0: parseProcStat(text, 'cpu0') }
  } catch {
    const none = { total: 0, steal: 0, busy: 0 }
    return { all: none, cpu0: none }
  }
}

/** µs per jiffy of /proc/stat (USER_HZ, 100 on Linux). */
export const JIFFY_US = 10_000

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/**
 * Scenario servers import `tether-session/...`, which resolves to dist/: rebuild it when a file
 * under src/ is newer than the last build, so the run measures the code in the working tree.
 */
export function ensureBuild(root: string): void {
  const marker = join(root, 'dist', 'index.js')
  const stale = !existsSync(marker) || newestMtime(join(root, 'src')) > statSync(marker).mtimeMs
  if (!stale) return
  console.log('src/ is newer than dist/: npm run build')
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
}

/** True when `command --version` runs. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
