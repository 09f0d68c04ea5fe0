/**
 * Time limits on store calls with one timer for all of them. Every call of a manager has the same
 * limit, so deadlines come due in the order the calls started: a queue, and one timer armed for
 * the oldest call still pending. A call that settles only marks its entry; nothing is armed or
 * cleared per call, so a store answering in microseconds (Memory, SQLite) pays for no timer.
 */

interface Pending {
  readonly dueAt: number
  readonly op: string
  readonly reject: (err: Error) => void
  settled: boolean
}

export class StoreDeadlines {
  readonly limitMs: number
  private readonly queue: Pending[] = []
  /** Index of the oldest entry not known to be settled. */
  private head = 0
  private timer: NodeJS.Timeout | undefined
  /**
   * Whether the timer keeps the process alive: while a call is pending, yes; once none is, it is
   * unref'd, so a script ends when its work is done rather than up to the limit later.
   */
  private timerHeld = false

  constructor(limitMs: number) {
    this.limitMs = limitMs
  }

  /** `work`, or a rejection once it has been pending longer than the limit. */
  within<T>(op: string, work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { dueAt: Date.now() + this.limitMs, op, reject, settled: false }
      this.queue.push(entry)
      if (this.timer === undefined) this.arm(this.limitMs)
      else if (!this.timerHeld) {
        this.timer.ref()
        this.timerHeld = true
      }
      work.then(
        (value) => {
          this.settle(entry)
          resolve(value)
        },
        (err: unknown) => {
          this.settle(entry)
          // The store's own rejection, passed on as it is (storeCall wraps it as the cause).
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(err)
        },
      )
    })
  }

  private settle(entry: Pending): void {
    entry.settled = true
    const { queue } = this
    while (this.head < queue.length && queue[this.head]!.settled) this.head++
    if (this.head === queue.length) {
      queue.length = 0
      this.head = 0
      this.timer?.unref()
      this.timerHeld = false
    }
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.expire(), delayMs)
    this.timerHeld = true
  }

  /** Rejects every call past its deadline, then waits for the next oldest one, if any. */
  private expire(): void {
    this.timer = undefined
    const { queue } = this
    const now = Date.now()
    while (this.head < queue.length) {
      const entry = queue[this.head]!
      if (!entry.settled && entry.dueAt > now) break
      this.head++
      if (entry.settled) continue
      entry.settled = true
      entry.reject(new Error(`store ${entry.op} took longer than ${this.limitMs} ms`))
    }
    if (this.head === queue.length) {
      queue.length = 0
      this.head = 0
      return
    }
    if (this.head > 1024) {
      queue.splice(0, this.head)
      this.head = 0
    }
    this.arm(Math.max(1, queue[this.head]!.dueAt - now))
  }
}

/** A manager's view of its store: the call time limits and whether a failure burst is under way. */
export interface StoreHealth {
  readonly deadlines: StoreDeadlines
  /** A call failed and none has succeeded since: further failures emit no `store.error`. */
  failing: boolean
}

export function createStoreHealth(limitMs: number): StoreHealth {
  return { deadlines: new StoreDeadlines(limitMs), failing: false }
}
