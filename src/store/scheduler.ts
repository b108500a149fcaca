// Who gets the embedded store next. PGlite is one connection on one thread: whoever holds it (one statement, or a
// whole transaction) keeps everyone else waiting. Long writes are cut into short steps (src/catalog/commit.ts), and
// between steps this scheduler hands the store out by class:
//   read        single statements outside transactions (queries, point reads): first, so a read waits for at most
//               the step in progress;
//   write       transactions of foreground writes (each chunk step of a big insert is one);
//   background  transactions of background jobs (backfills, index builds).
// Reads first could starve writers under a steady read load, and foreground writes could starve jobs, so a waiting
// transaction that has aged past its class's limit goes next: every class gets a minimum share of store time.

export type StoreClass = 'read' | 'write' | 'background'

/** How long a transaction may wait behind reads (and jobs behind writes) before it goes first. */
export const AGING_MS: Readonly<Record<Exclude<StoreClass, 'read'>, number>> = { write: 20, background: 100 }

interface Waiter {
  readonly cls: StoreClass
  readonly since: number
  readonly grant: () => void
}

export interface ClassStats {
  granted: number
  /** Total and worst time spent waiting for the store, in ms. */
  waitMs: number
  maxWaitMs: number
  /** Total time holding the store (statement time plus, for transactions, the JS between their statements). */
  heldMs: number
}

export class StoreScheduler {
  readonly #queues: Record<StoreClass, Waiter[]> = { read: [], write: [], background: [] }
  #busy = false
  readonly #stats: Record<StoreClass, ClassStats> = {
    read: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    write: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    background: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
  }

  /** Runs fn with exclusive use of the store, when this class's turn comes. */
  async run<T>(cls: StoreClass, fn: () => Promise<T>): Promise<T> {
    await this.#acquire(cls)
    const held = performance.now()
    try {
      return await fn()
    } finally {
      this.#stats[cls].heldMs += performance.now() - held
      this.#release()
    }
  }

  /** Waiting requests per class (for /metrics and tests). */
  get waiting(): Record<StoreClass, number> {
    return { read: this.#queues.read.length, write: this.#queues.write.length, background: this.#queues.background.length }
  }

  stats(): Readonly<Record<StoreClass, Readonly<ClassStats>>> {
    return this.#stats
  }

  #acquire(cls: StoreClass): Promise<void> {
    if (!this.#busy && this.#queues.read.length + this.#queues.write.length + this.#queues.background.length === 0) {
      this.#busy = true
      this.#account(cls, 0)
      return Promise.resolve()
    }
    return new Promise<void>((grant) => {
      this.#queues[cls].push({ cls, since: performance.now(), grant })
    })
  }

  #release(): void {
    this.#busy = false
    const next = this.#next()
    if (!next) return
    this.#busy = true
    this.#account(next.cls, performance.now() - next.since)
    next.grant()
  }

  #next(): Waiter | undefined {
    const now = performance.now()
    const bg = this.#queues.background[0]
    if (bg && now - bg.since >= AGING_MS.background) return this.#queues.background.shift()
    const w = this.#queues.write[0]
    if (w && now - w.since >= AGING_MS.write) return this.#queues.write.shift()
    return this.#queues.read.shift() ?? this.#queues.write.shift() ?? this.#queues.background.shift()
  }

  #account(cls: StoreClass, waited: number): void {
    const s = this.#stats[cls]
    s.granted++
    s.waitMs += waited
    if (waited > s.maxWaitMs) s.maxWaitMs = waited
  }
}
