import type Database from 'better-sqlite3'

interface Queued {
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * Group commit: the writes asked for in one turn of the event loop run, in order, in one
 * transaction, committed once. On a WAL file the commit is most of a write's cost (appending the
 * changed pages), so requests served together share it; each write's promise settles after the
 * commit, so nothing is reported written before it is.
 *
 * A write that throws is undone alone when it ran in a savepoint (a nested better-sqlite3
 * transaction) or as one statement, and only its own promise rejects. When the transaction itself
 * fails (the commit, or an error after which SQLite rolled everything back), every write of the
 * batch rejects: none of them is kept.
 */
export class WriteBatch {
  private queue: Queued[] = []
  private scheduled: NodeJS.Immediate | undefined
  private readonly runAll: Database.Transaction<(queue: Queued[]) => Outcome[]>

  constructor(db: Database.Database) {
    this.runAll = db.transaction(runEach.bind(null, db))
  }

  /** Queues `run` for the next commit; settles with its result once that commit is done. */
  add<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject })
      this.scheduled ??= setImmediate(() => this.flush())
    })
  }

  /** Runs and commits every queued write now (also before the database closes). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    const queue = this.queue
    if (queue.length === 0) return
    this.queue = []
    let outcomes: Outcome[]
    try {
      // IMMEDIATE takes the write lock up front, so another process cannot slip in between a
      // write's reads and its writes (a deferred transaction would fail with SQLITE_BUSY instead).
      outcomes = this.runAll.immediate(queue)
    } catch (err) {
      for (const queued of queue) queued.reject(err)
      return
    }
    for (let i = 0; i < queue.length; i++) {
      const outcome = outcomes[i]!
      if (outcome.ok) queue[i]!.resolve(outcome.value)
      else queue[i]!.reject(outcome.error)
    }
  }
}

function runEach(db: Database.Database, queue: Queued[]): Outcome[] {
  const outcomes: Outcome[] = []
  for (const queued of queue) {
    try {
      outcomes.push({ ok: true, value: queued.run() })
    } catch (error) {
      // SQLite ended the whole transaction (a full disk, an I/O error): what ran before it is
      // gone too, so the batch fails as one.
      if (!db.inTransaction) throw error
      outcomes.push({ ok: false, error })
    }
  }
  return outcomes
}
