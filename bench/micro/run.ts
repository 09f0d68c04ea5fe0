/** `--micro`: runs bench/micro/main.ts pinned to CPU 0 and returns its results. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pinned, track } from '../lib/children.js'
import type { Timed } from './timer.js'

export async function runMicro(): Promise<Timed[]> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url))
  const [command, argv] = pinned(0, process.execPath, ['--import', 'tsx', main])
  const child = track(spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] }))
  let out = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => (out += chunk))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the micro-benchmarks exited with ${code}`)
  const lines = out.trimEnd().split('\n')
  const json = lines.pop()!
  console.log(lines.join('\n'))
  return (JSON.parse(json) as { micro: Timed[] }).micro
}
