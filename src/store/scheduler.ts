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

/**
 * Reads in flight at once. A read is one statement, and the store's worker runs its messages one after another, so
 * several reads can be sent without waiting for each answer: the worker then finds the next statement already
 * queued instead of idling for two thread hops per read (the hop dominated point reads on a loaded 2-core machine).
 * Small, because a read already sent cannot be overtaken by a transaction that has waited past its aging limit.
 */
export const READS_IN_FLIGHT = 3

export class StoreScheduler {
  readonly #queues: Record<StoreClass, Waiter[]> = { read: [], write: [], background: [] }
  /** Reads sent and not yet answered; a transaction runs only when there are none. */
  #reads = 0
  /** A transaction (or another exclusive turn) holds the store. */
  #exclusive = false
  readonly #stats: Record<StoreClass, ClassStats> = {
    read: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    write: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    background: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
  }

  /** Runs fn when this class's turn comes: reads share the store with other reads, transactions hold it alone. */
  async run<T>(cls: StoreClass, fn: () => Promise<T>): Promise<T> {
    // A read that would be granted at once (the common case of a point read) skips the waiting line and its promise.
    if (cls === 'read' && this.#queues.read.length === 0 && this.#readMayStart(performance.now())) {
      this.#reads++
      this.#account('read', 0)
    } else {
      await this.#acquire(cls)
    }
    const held = performance.now()
    try {
      return await fn()
    } finally {
      this.#stats[cls].heldMs += performance.now() - held
      if (cls === 'read') this.#reads--
      else this.#exclusive = false
      this.#pump()
    }
  }

  /**
   * Resolves once nothing waits for the store and nothing holds it (close: every call made before it is answered —
   * a close scheduled as a plain write would overtake reads still queued once it had aged past AGING_MS.write).
   */
  whenIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  readonly #idleWaiters: (() => void)[] = []

  #idle(): boolean {
    return !this.#exclusive && this.#reads === 0 && this.#queues.read.length === 0 && this.#queues.write.length === 0 && this.#queues.background.length === 0
  }

  /** Waiting requests per class (for /metrics and tests). */
  get waiting(): Record<StoreClass, number> {
    return { read: this.#queues.read.length, write: this.#queues.write.length, background: this.#queues.background.length }
  }

  /** Reads in flight now (for tests). */
  get readsInFlight(): number {
    return this.#reads
  }

  stats(): Readonly<Record<StoreClass, Readonly<ClassStats>>> {
    return this.#stats
  }

  #acquire(cls: StoreClass): Promise<void> {
    return new Promise<void>((grant) => {
      this.#queues[cls].push({ cls, since: performance.now(), grant })
      this.#pump()
    })
  }

  /** Grants every turn that can start now, in priority order. */
  #pump(): void {
    for (;;) {
      const next = this.#next()
      if (!next) {
        if (this.#idleWaiters.length > 0 && this.#idle()) for (const resolve of this.#idleWaiters.splice(0)) resolve()
        return
      }
      if (next.cls === 'read') this.#reads++
      else this.#exclusive = true
      this.#account(next.cls, performance.now() - next.since)
      next.grant()
    }
  }

  /**
   * The waiter that can start now, if any. A transaction that has aged past its class's limit goes next: no new read
   * starts while it waits for the reads in flight to end. Otherwise reads first (up to READS_IN_FLIGHT at once), then
   * foreground writes, then jobs, each transaction alone.
   */
  #next(): Waiter | undefined {
    if (this.#exclusive) return undefined
    const now = performance.now()
    const aged = this.#aged(now)
    if (aged) return this.#reads === 0 ? aged.shift() : undefined
    if (this.#queues.read.length > 0) return this.#reads < READS_IN_FLIGHT ? this.#queues.read.shift() : undefined
    if (this.#reads > 0) return undefined
    return this.#queues.write.shift() ?? this.#queues.background.shift()
  }

  /** The queue of a transaction that has waited past its class's aging limit, if any (jobs first). */
  #aged(now: number): Waiter[] | undefined {
    const bg = this.#queues.background[0]
    const w = this.#queues.write[0]
    return bg && now - bg.since >= AGING_MS.background ? this.#queues.background : w && now - w.since >= AGING_MS.write ? this.#queues.write : undefined
  }

  /** Whether #next() would grant a read now: nothing exclusive, room in flight, no aged transaction waiting. */
  #readMayStart(now: number): boolean {
    return !this.#exclusive && this.#reads < READS_IN_FLIGHT && !this.#aged(now)
  }

  #account(cls: StoreClass, waited: number): void {
    const s = this.#stats[cls]
    s.granted++
    s.waitMs += waited
    if (waited > s.maxWaitMs) s.maxWaitMs = waited
  }
}
