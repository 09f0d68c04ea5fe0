/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function inside the measured
 * window, divided by the requests the server answered in it.
 */

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface HotFunction {
  name: string
  /** file:line (1-based), relative to `root` when under it. */
  location: string
  selfUs: number
  usPerRequest: number
  percent: number
}

export interface ProfileSummary {
  /** Sampled µs in the window, per request, idle time left out. */
  totalUsPerRequest: number
  /** Idle µs per request in the window (waiting for the load, Redis, or the CPU). */
  idleUsPerRequest: number
  /** Whether samples were limited to the measured window (else the whole profile). */
  windowed: boolean
  top: HotFunction[]
}

function locationOf(frame: CallFrame, root: string): string {
  if (frame.url === '') return ''
  let url = frame.url.replace(/^file:\/\//, '')
  if (url.startsWith(root)) url = url.slice(root.length + 1)
  return `${url}:${frame.lineNumber + 1}`
}

/**
 * Self time per function (summed over the nodes of one function) for samples inside
 * `[fromUs, toUs]` on the profile's clock; every sample when none falls inside.
 */
export function summarizeProfile(
  profile: CpuProfile,
  window: [number, number],
  requests: number,
  root: string,
  limit = 25,
): ProfileSummary {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const collect = (inWindow: boolean) => {
    const self = new Map<string, { frame: CallFrame; us: number }>()
    let t = profile.startTime
    let total = 0
    let idle = 0
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0
      // A sample stands for the time until the next one.
      const us = profile.timeDeltas[i + 1] ?? 0
      if (inWindow && (t < window[0] || t > window[1])) continue
      const frame = frames.get(profile.samples[i]!)
      if (frame === undefined) continue
      if (frame.functionName === '(idle)') {
        idle += us
        continue
      }
      const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`
      const entry = self.get(key) ?? { frame, us: 0 }
      entry.us += us
      self.set(key, entry)
      total += us
    }
    return { self, total, idle }
  }
  let windowed = true
  let { self, total, idle } = collect(true)
  if (total === 0) {
    windowed = false
    ;({ self, total, idle } = collect(false))
  }
  const perRequest = Math.max(1, requests)
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map(({ frame, us }) => ({
      name: frame.functionName === '' ? '(anonymous)' : frame.functionName,
      location: locationOf(frame, root),
      selfUs: us,
      usPerRequest: us / perRequest,
      percent: total === 0 ? 0 : (100 * us) / total,
    }))
  return {
    totalUsPerRequest: total / perRequest,
    idleUsPerRequest: idle / perRequest,
    windowed,
    top,
  }
}

export function profileTable(summary: ProfileSummary): string {
  const lines = [
    `sampled CPU: ${summary.totalUsPerRequest.toFixed(1)} µs per request, ` +
      `idle ${summary.idleUsPerRequest.toFixed(1)} µs` +
      (summary.windowed ? ' (measured window only)' : ' (whole profile: no sample in the window)'),
    `${'µs/req'.padStart(8)} ${'%'.padStart(6)}  function  (file:line)`,
  ]
  for (const f of summary.top) {
    lines.push(
      `${f.usPerRequest.toFixed(2).padStart(8)} ${f.percent.toFixed(1).padStart(6)}  ${f.name}` +
        (f.location === '' ? '' : `  (${f.location})`),
    )
  }
  return lines.join('\n')
}
