// Versions that reads in flight in this process still read: a stream (Query.stream(), an NDJSON answer, an export)
// pins each table at a version and reads its pages there, one statement each, for as long as its reader takes.
// Compaction (compact.ts) keeps every version from the oldest one held, so no page misses the rows of a version a
// stream started on; once the streams are done, a later compaction removes them as before. A hold is released when
// its stream ends, fails or is closed (return()); one whose reader walked away without closing it lapses after
// `idleMs` without a page read. A compaction that did not see a hold (another process on the same server store, or a
// lapsed hold) is caught by the stream's check after each page (local-executor.ts): it fails by name instead.

/** A lapsed hold: no page read for this long (a stream abandoned without return()). */
export const READ_HOLD_IDLE_MS = 30 * 60_000

export interface ReadHold {
  /** A page was read: the hold lasts another idle period. */
  renew(): void
  /** The read is done (idempotent). */
  release(): void
}

interface Entry {
  readonly tableId: number
  readonly version: number
  seen: number
}

/** The holds of one database (one store connection) in this process. */
export class ReadHolds {
  readonly #entries = new Set<Entry>()
  readonly #idleMs: number
  readonly #now: () => number

  constructor(options: { idleMs?: number; now?: () => number } = {}) {
    this.#idleMs = options.idleMs ?? READ_HOLD_IDLE_MS
    this.#now = options.now ?? Date.now
  }

  hold(tableId: number, version: number): ReadHold {
    const entry: Entry = { tableId, version, seen: this.#now() }
    this.#entries.add(entry)
    return {
      renew: () => {
        if (this.#entries.has(entry)) entry.seen = this.#now()
      },
      release: () => void this.#entries.delete(entry),
    }
  }

  /** The oldest version of the table a live hold reads, and how many live holds the table has; undefined: none. */
  oldest(tableId: number): { version: number; reads: number } | undefined {
    const now = this.#now()
    let version: number | undefined
    let reads = 0
    for (const e of this.#entries) {
      if (now - e.seen > this.#idleMs) {
        this.#entries.delete(e)
        continue
      }
      if (e.tableId !== tableId) continue
      reads++
      version = version === undefined ? e.version : Math.min(version, e.version)
    }
    return version === undefined ? undefined : { version, reads }
  }

  get size(): number {
    return this.#entries.size
  }
}

// One registry per store connection: the catalog's handles and compaction of a database share its driver.
const registries = new WeakMap<object, ReadHolds>()

/** The read holds of the database on `db` (its driver) in this process. */
export function readHoldsOf(db: object): ReadHolds {
  let r = registries.get(db)
  if (!r) registries.set(db, (r = new ReadHolds()))
  return r
}
