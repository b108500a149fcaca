import type { Driver } from '../store/index.ts'
import { analyzeDataTable } from './data-table/index.ts'

// Keeps the data tables' column statistics fresh on the embedded store, as autovacuum's auto-analyze does on a
// server. PGlite runs no autovacuum: without this nothing ever ran ANALYZE, the planner estimated every equality join
// with a default selectivity (1/200 of the pairs), and the server's join bound (src/query/work-bound.ts) let through
// a join of two 50,000-row tables on a one-valued column (2.5e9 rows), which then held the single-threaded store for
// minutes (PGlite ignores statement_timeout). A PostgreSQL server store needs none of this: its autovacuum analyzes
// the tables (autovacuum's analyze is on by default; nothing here changes its settings).
//
// After a committed change (commit.ts: insert, update, delete, import; compact.ts: removed row versions) the rows it
// changed are counted per table; once they pass autovacuum's own threshold (50 rows + 10% of the rows at the last
// ANALYZE), one ANALYZE is queued ANALYZE_DELAY_MS later as a background transaction of the store's scheduler (it
// waits behind reads and foreground writes, and is never starved: src/store/scheduler.ts). The writer does not wait
// for it, and the writes that come meanwhile join it: a bulk insert's chunks give one ANALYZE, not one each.
// The ANALYZE is bounded (scalar columns, a 3,000-row sample): 22 ms at 100k rows, 71-79 ms at 1M on PGlite
// (data-table/statistics.ts has the figures: a plain ANALYZE of a table with a vector column held the store 7-10 s).

/** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, PostgreSQL's defaults. */
export const ANALYZE_THRESHOLD_ROWS = 50
export const ANALYZE_SCALE_FACTOR = 0.1
/** How long after a table's changes pass the threshold its ANALYZE is queued: the writes of that time join it. */
export const ANALYZE_DELAY_MS = 500

interface TableCounts {
  /** Rows changed since the last ANALYZE (or since this process opened the store). */
  changed: number
  /** The rows the planner counted at the last ANALYZE here (0: not analyzed by this process). */
  rowsAtAnalyze: number
  /** Analyzed here, and no change committed since (not even one of its schema: a column added has no statistics). */
  unchanged: boolean
}

export class AutoAnalyze {
  readonly #db: Driver
  readonly #tables = new Map<number, TableCounts>()
  /** Per table: the ANALYZE queued and not yet started; a change or a query that comes meanwhile joins it. */
  readonly #queued = new Map<number, Promise<void>>()
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>()
  readonly #running = new Set<Promise<void>>()
  #stopped = false

  constructor(db: Driver) {
    this.#db = db
  }

  /**
   * A change of a table committed, writing `rows` rows (0: a schema change, a job's column swapped in). PGlite only:
   * a server's autovacuum counts its own.
   */
  changed(tableId: number, rows: number): void {
    if (this.#db.kind !== 'pglite' || this.#stopped) return
    const t = this.#counts(tableId)
    t.unchanged = false
    if (!(rows > 0)) return
    t.changed += rows
    if (!this.due(tableId) || this.#timers.has(tableId) || this.#queued.has(tableId)) return
    const timer = setTimeout(() => {
      this.#timers.delete(tableId)
      void this.analyze(tableId)
    }, ANALYZE_DELAY_MS)
    // A pending ANALYZE keeps no process alive (close() drops it).
    ;(timer as { unref?: () => void }).unref?.()
    this.#timers.set(tableId, timer)
  }

  /** The table's changes since its last ANALYZE passed the threshold: its statistics may be stale. */
  due(tableId: number): boolean {
    const t = this.#tables.get(tableId)
    return t !== undefined && t.changed >= ANALYZE_THRESHOLD_ROWS + ANALYZE_SCALE_FACTOR * t.rowsAtAnalyze
  }

  /**
   * This process analyzed the table and nothing changed it since: what its statistics lack (an empty table has none
   * for any column) another ANALYZE would not add. Never on a server store, whose changes are not counted here.
   */
  fresh(tableId: number): boolean {
    const t = this.#tables.get(tableId)
    return this.#db.kind === 'pglite' && t !== undefined && t.unchanged
  }

  /**
   * Brings the statistics of the tables a query plans with up to date before it is estimated (work-bound.ts):
   * those whose statistics lack a column the query joins on (`lacking`), unless analyzed here with no change since,
   * and those with changes past the threshold whose ANALYZE has not run yet. Each joins the ANALYZE already queued.
   * Failures are left to the statement that follows (a dropped table fails it with its own error).
   */
  async refresh(tableIds: readonly number[], lacking: ReadonlySet<number>): Promise<void> {
    const ids = [...new Set(tableIds)].filter((id) => this.due(id) || (lacking.has(id) && !this.fresh(id)))
    await Promise.all(ids.map((id) => this.analyze(id)))
  }

  /** Runs ANALYZE of a table as background store work, joining the one queued for it if any; never rejects. */
  analyze(tableId: number): Promise<void> {
    const queued = this.#queued.get(tableId)
    if (queued) return queued
    if (this.#stopped) return Promise.resolve()
    const timer = this.#timers.get(tableId)
    if (timer) clearTimeout(timer)
    this.#timers.delete(tableId)
    let counted = 0
    const run = this.#db.transaction(async (tx) => {
      // From here on a change counts toward the next ANALYZE: this one may not see it.
      this.#queued.delete(tableId)
      const t = this.#counts(tableId)
      counted = t.changed
      t.changed = 0
      const rows = await analyzeDataTable(tx, tableId)
      t.rowsAtAnalyze = rows
      t.unchanged = true
    }, { priority: 'background' }).catch(() => {
      // The store closed or the table was dropped: what it counted stays for the next try.
      const t = this.#tables.get(tableId)
      if (t) t.changed += counted
    }).finally(() => {
      if (this.#queued.get(tableId) === run) this.#queued.delete(tableId)
      this.#running.delete(run)
    })
    this.#queued.set(tableId, run)
    this.#running.add(run)
    return run
  }

  /** The table was dropped: nothing more is analyzed for it. */
  forget(tableId: number): void {
    const timer = this.#timers.get(tableId)
    if (timer) clearTimeout(timer)
    this.#timers.delete(tableId)
    this.#tables.delete(tableId)
  }

  /** Before the store closes: pending ANALYZEs are dropped, the running ones awaited. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    await Promise.all([...this.#running])
  }

  #counts(tableId: number): TableCounts {
    let t = this.#tables.get(tableId)
    if (!t) this.#tables.set(tableId, (t = { changed: 0, rowsAtAnalyze: 0, unchanged: false }))
    return t
  }
}

const registries = new WeakMap<object, AutoAnalyze>()

/** The auto-analyze of the database on `db` (its driver) in this process. */
export function autoAnalyzeOf(db: Driver): AutoAnalyze {
  let a = registries.get(db)
  if (!a) registries.set(db, (a = new AutoAnalyze(db)))
  return a
}
