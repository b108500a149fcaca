import { AsyncLocalStorage } from 'node:async_hooks'

// Who gets the embedded store next. PGlite is one connection on one thread: whoever holds it (one statement, or a
// whole transaction) keeps everyone else waiting. Long writes are cut into short steps (src/catalog/commit.ts), and
// between steps this scheduler hands the store out by class:
//   read        single statements outside transactions (queries, point reads): first, so a read waits for at most
//               the step in progress (up to READS_IN_FLIGHT sent at once, one at a time while a write waits);
//   write       transactions of foreground writes (each chunk step of a big insert is one);
//   background  transactions of background jobs (backfills, index builds);
//   bulk        single statements that are pages of a long read (a streamed query's pages, each of which may scan the
//               whole table): after reads, writes and jobs, one at a time, so an interactive read waits for at most
//               one page and a sequence of foreground statements (an update's block-paged read of its rows, a big
//               write's steps) runs without a page between each two of them.
// Reads first could starve writers under a steady read load, and foreground writes could starve jobs, so a waiting
// transaction (or page) that has aged past its class's limit goes next: every class gets a minimum share of store
// time.

export type StoreClass = 'read' | 'write' | 'background' | 'bulk'

/**
 * How long a transaction may wait behind reads (and jobs behind writes) before it goes first; how long a bulk read
 * (a page of a stream) may wait behind everything else before it goes as a read.
 */
export const AGING_MS: Readonly<Record<Exclude<StoreClass, 'read'>, number>> = { write: 20, background: 100, bulk: 100 }

const bulkContext = new AsyncLocalStorage<true>()

/**
 * Runs fn with every statement it makes outside a transaction (and everything it awaits) scheduled as a bulk read:
 * the pages of a long read, such as a streamed query, that should let interactive reads and writes go first.
 */
export function bulkReads<T>(fn: () => T): T {
  return bulkContext.run(true, fn)
}

/** The class of a statement made now outside a transaction: 'bulk' inside bulkReads(), else 'read'. */
export function readClass(): 'read' | 'bulk' {
  return bulkContext.getStore() ? 'bulk' : 'read'
}

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
 * Small, because a read already sent cannot be overtaken by a transaction that has waited past its aging limit; and
 * one while a foreground write waits (#readCap).
 */
export const READS_IN_FLIGHT = 3

export class StoreScheduler {
  readonly #queues: Record<StoreClass, Waiter[]> = { read: [], write: [], background: [], bulk: [] }
  /** Reads sent and not yet answered (bulk ones included); a transaction runs only when there are none. */
  #reads = 0
  /** Bulk reads among them (one at a time). */
  #bulkReads = 0
  /** A transaction (or another exclusive turn) holds the store. */
  #exclusive = false
  /**
   * A foreground turn ended in this turn of the event loop while a bulk read waited: the bulk read waits for the next
   * turn, so that the statement the foreground caller makes next (in the microtasks after its answer: the next page of
   * a block-paged read, the next step of a write) goes first instead of waiting for a whole page.
   */
  #bulkDeferred = false
  readonly #stats: Record<StoreClass, ClassStats> = {
    read: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    write: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    background: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
    bulk: { granted: 0, waitMs: 0, maxWaitMs: 0, heldMs: 0 },
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
      if (cls === 'read' || cls === 'bulk') this.#reads--
      else this.#exclusive = false
      if (cls === 'bulk') this.#bulkReads--
      else if (this.#queues.bulk.length > 0) this.#deferBulk()
      this.#pump()
    }
  }

  #deferBulk(): void {
    if (this.#bulkDeferred) return
    this.#bulkDeferred = true
    setImmediate(() => {
      this.#bulkDeferred = false
      this.#pump()
    })
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
    return !this.#exclusive && this.#reads === 0 && this.#queues.read.length === 0 && this.#queues.write.length === 0 && this.#queues.background.length === 0 && this.#queues.bulk.length === 0
  }

  /** Waiting requests per class (for /metrics and tests). */
  get waiting(): Record<StoreClass, number> {
    return { read: this.#queues.read.length, write: this.#queues.write.length, background: this.#queues.background.length, bulk: this.#queues.bulk.length }
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
      if (next.cls === 'read' || next.cls === 'bulk') this.#reads++
      else this.#exclusive = true
      if (next.cls === 'bulk') this.#bulkReads++
      this.#account(next.cls, performance.now() - next.since)
      next.grant()
    }
  }

  /**
   * The waiter that can start now, if any. A transaction that has aged past its class's limit goes next: no new read
   * starts while it waits for the reads in flight to end. Otherwise reads first (up to READS_IN_FLIGHT at once), then
   * foreground writes, then jobs, each transaction alone, then bulk reads, one at a time. A bulk read that has aged
   * past its limit goes as the next read (before the reads waiting and young transactions), still one at a time.
   */
  #next(): Waiter | undefined {
    if (this.#exclusive) return undefined
    const now = performance.now()
    const aged = this.#aged(now)
    if (aged) return this.#reads === 0 ? aged.shift() : undefined
    if (this.#reads >= this.#readCap()) return undefined
    if (this.#bulkAged(now)) return this.#queues.bulk.shift()
    if (this.#queues.read.length > 0) return this.#queues.read.shift()
    if (this.#reads > 0) return undefined
    const tx = this.#queues.write.shift() ?? this.#queues.background.shift()
    if (tx) return tx
    return this.#bulkDeferred ? undefined : this.#queues.bulk.shift()
  }

  /** A bulk read has waited past its aging limit, and none is in flight: it goes before the reads waiting. */
  #bulkAged(now: number): boolean {
    const bulk = this.#queues.bulk[0]
    return bulk !== undefined && this.#bulkReads === 0 && now - bulk.since >= AGING_MS.bulk
  }

  /** The queue of a transaction that has waited past its class's aging limit, if any (jobs first). */
  #aged(now: number): Waiter[] | undefined {
    const bg = this.#queues.background[0]
    const w = this.#queues.write[0]
    return bg && now - bg.since >= AGING_MS.background ? this.#queues.background : w && now - w.since >= AGING_MS.write ? this.#queues.write : undefined
  }

  /**
   * Reads that may be in flight now: READS_IN_FLIGHT, but one while a foreground write waits. Reads still go first,
   * but they are sent one at a time, so when the write ages past its limit it waits for at most one read to end rather
   * than for READS_IN_FLIGHT of them, run one after another by the store's worker (a write step waited 20-90 ms behind
   * a steady read load where its limit is 20 ms; with one read in flight the median wait fell by a quarter to a third
   * in a simulation of the worker, about as many reads served). A job's limit (100 ms) is long beside a few reads:
   * reads keep their pipelining while only jobs wait.
   */
  #readCap(): number {
    return this.#queues.write.length > 0 ? 1 : READS_IN_FLIGHT
  }

  /** Whether #next() would grant a read now: nothing exclusive, room in flight, no aged transaction or page waiting. */
  #readMayStart(now: number): boolean {
    return !this.#exclusive && this.#reads < this.#readCap() && !this.#aged(now) && !this.#bulkAged(now)
  }

  #account(cls: StoreClass, waited: number): void {
    const s = this.#stats[cls]
    s.granted++
    s.waitMs += waited
    if (waited > s.maxWaitMs) s.maxWaitMs = waited
  }
}
