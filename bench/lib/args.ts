/** The flags of `npm run bench -- [flags]`; see bench/README.md. */
import { parseArgs } from 'node:util'

export interface BenchArgs {
  quick: boolean
  only: string[] | null
  reps: number | null
  duration: number | null
  warmup: number | null
  connections: number
  check: boolean
  rounds: number | null
  profile: string | null
  micro: boolean
  memory: boolean
  json: string | null
  help: boolean
}

export const USAGE = `npm run bench -- [flags]
  --quick              one repetition, short windows (under 2 minutes)
  --only a,b           only these scenarios (names from the table; scenario/route also works)
  --reps N             repetitions (default 3; --quick 1)
  --duration S         measured window per case in seconds (default 2; --quick 1)
  --warmup S           warm-up per case in seconds (default 1; --quick 0.5)
  --connections N      autocannon connections (default 10)
  --check              PASS/FAIL per target of issues 12 and 14; exit 1 when one fails. A target
                       comparing two cases is judged from paired windows measured after the
                       repetitions (both servers up, load on each in turn)
  --rounds N           paired rounds per pair with --check (default 3; --quick 0; 0: judge
                       from the repetitions' medians instead)
  --profile scenario   run one scenario (or scenario/route) under node --cpu-prof and print the
                       top functions by self time per request (profile kept in bench/results/)
  --micro              micro-benchmarks only
  --memory             MemoryStore memory test only
  --json FILE          also write the results to FILE (always: bench/results/latest.json)`

function positive(name: string, value: string | undefined): number | null {
  if (value === undefined) return null
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`)
  return n
}

/** `--rounds`: a whole number, 0 included. */
function rounds(value: string | undefined): number | null {
  if (value === undefined) return null
  const n = value.trim() === '' ? NaN : Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error('--rounds must be a whole number (0 or more)')
  return n
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      check: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      profile: { type: 'string' },
      micro: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  const reps = positive('reps', values.reps)
  return {
    quick: values.quick,
    only: values.only === undefined ? null : values.only.split(',').map((s) => s.trim()),
    reps: reps === null ? null : Math.round(reps),
    duration: positive('duration', values.duration),
    warmup: positive('warmup', values.warmup),
    connections: Math.round(positive('connections', values.connections) ?? 10),
    check: values.check,
    rounds: rounds(values.rounds),
    profile: values.profile ?? null,
    micro: values.micro,
    memory: values.memory,
    json: values.json ?? null,
    help: values.help,
  }
}
