import { ConcurrencyError, UnavailableError } from '../errors.ts'
import { translateStoreError } from '../store/index.ts'
import type { Driver, Queryable, TransactionOptions } from '../store/index.ts'
import { valueColumn } from '../query/index.ts'
import { autoAnalyzeOf } from './auto-analyze.ts'
import { inContext } from './context.ts'
import { undoVersion } from './data-table/index.ts'
import type { TableMd, UpdateStatus, VersionKind } from './metadata.ts'
import type { WriteCounts } from './rows.ts'
import { emptyCounts } from './rows.ts'
import type { TableState } from './state.ts'
import { commitVersion, lockTableRow, popVersion } from './state.ts'
import type { CatalogContext } from './table.ts'

// The one commit unit: every change of a table's version (row writes, schema changes, view syncs, job column
// swaps, reverts) goes through commitChange. It holds the table's lock, does slow work (validation, UDFs, models,
// media) outside any transaction, and records the new version in one short final transaction that re-reads the
// catalog row FOR UPDATE. On a single-connection store (PGlite) bulk rows are written before that, in short steps
// under the new version, which readers cannot see until the final step records it: reads and other tables' writes
// get the store between steps (src/store/scheduler.ts), and a failed or killed write leaves nothing visible.

/** Store time one step aims at: reads wait at most about this long behind a big write. */
export const STEP_TARGET_MS = 40
/** Rows of the first step; later steps are sized from the measured time per row. */
const FIRST_STEP_ROWS = 200
const MAX_STEP_ROWS = 5_000

/** What a change records: a version kind, or 'revert' (which pops the latest version instead of adding one). */
export type ChangeKind = VersionKind | 'revert'

/** Rows a change writes: in steps on a single-connection store, else inside the final transaction. */
export interface ChangeRows<P> {
  readonly count: (prepared: P) => number
  write(tx: Queryable, state: TableState, version: number, prepared: P, counts: WriteCounts, start: number, end: number): Promise<void>
}

/**
 * Rows whose number is known only once they are all read (an import streaming its input), on a single-connection
 * store: `write` writes them under `version` itself, each batch in one atomic store call of about a step's time (a
 * COPY), as they arrive, and returns when the input ends. The table's lock is held throughout, so other writes of
 * the table wait for it; its failure is undone like a failed step. It cannot be run again, so a change that meets
 * a schema changed meanwhile fails instead of retrying.
 */
export interface StreamedRows<P> {
  write(state: TableState, version: number, prepared: P, counts: WriteCounts): Promise<void>
}

/** The final step may pop the latest version instead of adding one (revert). */
export interface PopVersion {
  readonly pop: true
  readonly md: TableMd
}

export interface Change<P> {
  readonly kind: ChangeKind
  /** Slow work outside any transaction; runs again when the schema it checked against changed meanwhile. */
  readonly prepare?: (state: TableState, counts: WriteCounts) => Promise<P>
  readonly rows?: ChangeRows<P>
  /** Instead of rows: rows streamed in steps of the change's own (only where the store stages writes). */
  readonly streamed?: StreamedRows<P>
  /** The final transaction: the new schema (or nothing: same schema), or a PopVersion. */
  readonly apply?: (tx: Queryable, locked: TableState, version: number, prepared: P, counts: WriteCounts) => Promise<TableMd | PopVersion | void>
  /**
   * The prepared work read rows (values computed outside the transaction): the final step needs the version it
   * read at, and a change committed meanwhile (another process on a server store) makes it prepare again.
   */
  readonly readsRows?: (prepared: P) => boolean
  /** Undoes what a staged write's steps did besides adding rows (a backfill's new data column), when it fails. */
  readonly undo?: (tx: Queryable, state: TableState, prepared: P) => Promise<void>
  /**
   * Work after the final step that no reader depends on, still under the table's lock: a staged revert removes the
   * popped version's rows in steps. Leftovers of a process killed in it are removed at open.
   */
  readonly cleanup?: (committed: TableState) => Promise<void>
  /** Background jobs: their transactions wait behind foreground writes (never starved). */
  readonly background?: boolean
}

export interface ChangeResult {
  readonly status: UpdateStatus
  /** The state after the change; undefined when nothing changed. */
  readonly committed: TableState | undefined
}

const staleSchema = new Error('stale schema')

export async function commitChange<P>(ctx: CatalogContext, tableId: number, change: Change<P>): Promise<ChangeResult> {
  // The database's execution context: computed values, derived media and provider calls are this database's.
  return inContext(ctx.exec, () => ctx.locks.run(tableId, async () => {
    const result = await commitInContext(ctx, tableId, change)
    // Dependents follow under this table's lock, so they see its changes in commit order (a revert mirrored by a
    // view must not overtake the write that came before it).
    if (result.committed) await ctx.afterChange?.(result.committed, change.kind)
    return result
  }))
}

/** commitChange for a caller that already holds the table's lock (a view sync runs under its view's lock). */
export function commitLocked<P>(ctx: CatalogContext, tableId: number, change: Change<P>): Promise<ChangeResult> {
  return inContext(ctx.exec, () => commitInContext(ctx, tableId, change))
}

async function commitInContext<P>(ctx: CatalogContext, tableId: number, change: Change<P>): Promise<ChangeResult> {
  const txOptions = { lockKey: tableId, ...(change.background ? { priority: 'background' as const } : {}) }
  await undoLeftovers(ctx, ctx.state(tableId))
  for (let attempt = 0; ; attempt++) {
    const state = ctx.state(tableId)
    const counts = emptyCounts()
    let prepared: P
    try {
      prepared = change.prepare ? await change.prepare(state, counts) : (undefined as P)
    } catch (e) {
      // Another process may have changed the schema this was checked against (a column it names was added).
      if (attempt < 3 && !sameMd((await ctx.refresh(tableId)).md, state.md)) continue
      throw e
    }
    const version = state.version + 1
    const total = change.rows?.count(prepared) ?? 0
    if (change.streamed && ctx.db.capabilities.stagedWrites !== true) throw new Error('streamed rows need a store that stages writes')
    // A write that fits in one step needs no staging: it goes into the final transaction as it is.
    const staged = change.streamed !== undefined || (total > FIRST_STEP_ROWS && ctx.db.capabilities.stagedWrites === true)
    const translate = (e: unknown) => translateStoreError(e, { table: state.path, columnNames: new Map(state.md.columns.map((c) => [valueColumn(c.id), c.name])) })
    if (staged) {
      try {
        if (change.streamed) await change.streamed.write(state, version, prepared, counts)
        else await writeSteps(ctx, state, version, prepared, counts, change.rows!, total, txOptions)
      } catch (e) {
        await discardStaged(ctx, state, version, change, prepared)
        throw translate(e)
      }
    }
    const afterSteps = cloneCounts(counts)
    let committed: TableState | undefined
    try {
      await ctx.db.transaction(async (tx) => {
        // A server store may run this again after a serialization failure: start from the counts before it.
        Object.assign(counts, cloneCounts(afterSteps))
        const locked = await lockTableRow(tx, tableId, state.path)
        if (!sameMd(locked.md, state.md)) throw staleSchema
        if (change.readsRows?.(prepared) && locked.version !== state.version) throw staleSchema
        if (staged && locked.version !== state.version) {
          // Only this process writes a PGlite data dir, and it held the table's lock throughout.
          throw new ConcurrencyError('CONCURRENCY_CONFLICT', `'${state.path}' moved to version ${locked.version} during a staged write at ${version}`, { version: locked.version })
        }
        const v = locked.version + 1
        if (!staged && total > 0) await change.rows!.write(tx, locked, v, prepared, counts, 0, total)
        const out = change.apply ? await change.apply(tx, locked, v, prepared, counts) : undefined
        if (out && 'pop' in out) {
          await popVersion(tx, tableId, locked.version, out.md)
          committed = { ...locked, version: locked.version - 1, md: out.md }
          return
        }
        const newMd = out ?? locked.md
        // A change of columns its views could not follow is refused before it commits (src/catalog/views.ts).
        if (newMd.columns !== locked.md.columns) await ctx.checkFollowers?.(tx, locked, newMd)
        if (counts.inserted + counts.updated + counts.deleted === 0 && newMd === locked.md) return
        await commitVersion(tx, tableId, v, change.kind as VersionKind, newMd, { inserted: counts.inserted, updated: counts.updated, deleted: counts.deleted, errors: counts.excs })
        committed = { ...locked, version: v, md: newMd }
      }, txOptions)
    } catch (e) {
      if (staged) await discardStaged(ctx, state, version, change, prepared)
      if (e === staleSchema && attempt < 3 && !change.streamed) {
        await ctx.refresh(tableId)
        continue
      }
      await ctx.refresh(tableId).catch(() => undefined)
      throw translate(e)
    }
    if (committed) ctx.setState(committed)
    // The planner's statistics follow the rows changed (and the columns), off this caller's path (auto-analyze.ts).
    if (committed) autoAnalyzeOf(ctx.db).changed(tableId, counts.inserted + counts.updated + counts.deleted)
    if (committed && change.cleanup) await change.cleanup(committed)
    return { status: toStatus(committed?.version ?? state.version, counts), committed }
  }
}

/** Rows for the next step of about STEP_TARGET_MS, from the store time a row took so far (at least 1, at most max). */
export function stepRows(msPerRow: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(STEP_TARGET_MS / Math.max(msPerRow, 1e-4))))
}

/**
 * Runs `step` in transactions of about STEP_TARGET_MS of store time each until it changes nothing: it is given how
 * many rows to change and returns how many it changed.
 */
export async function runInSteps(ctx: CatalogContext, tableId: number, step: (tx: Queryable, limit: number) => Promise<number>): Promise<void> {
  for (let size = FIRST_STEP_ROWS; ;) {
    const { result: n, heldMs } = await heldTransaction(ctx.db, (tx) => step(tx, size), { lockKey: tableId })
    if (n === 0) return
    size = stepRows(heldMs / n, MAX_STEP_ROWS)
  }
}

/**
 * Runs fn in one transaction and measures the store time it held: from the moment its callback starts (the store is
 * its own then: on PGlite the scheduler granted its turn; on a server store the connection and the table's lock are
 * taken) to its commit. A step is sized from this, never from the time it waited for its turn: under a steady read
 * load every step of a write waits at least the scheduler's aging limit (src/store/scheduler.ts AGING_MS) plus the
 * reads in flight, and counting that wait as time per row shrank the steps toward one row, each paying the whole
 * wait again (a 20,000-row update under 8 clients' reads took ~85 s instead of ~1 s). The end is taken where the
 * transaction's promise resolves, which follows its commit within the same turn of the event loop (microtasks only).
 */
export async function heldTransaction<T>(db: Driver, fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<{ result: T; heldMs: number }> {
  let began: number | undefined
  const result = await db.transaction((tx) => {
    began = performance.now()
    return fn(tx)
  }, options)
  const end = performance.now()
  return { result, heldMs: end - (began ?? end) }
}

/** Writes rows [0, total) in transactions of about STEP_TARGET_MS each, sized from the store time per row so far. */
async function writeSteps<P>(
  ctx: CatalogContext, state: TableState, version: number, prepared: P, counts: WriteCounts, rows: ChangeRows<P>, total: number,
  txOptions: { lockKey: number; priority?: 'background' },
): Promise<void> {
  let size = Math.min(FIRST_STEP_ROWS, total)
  for (let start = 0; start < total;) {
    const end = Math.min(total, start + size)
    // Sized from the store time the step held, not from the wait for its turn behind reads (heldTransaction).
    const { heldMs } = await heldTransaction(ctx.db, (tx) => rows.write(tx, state, version, prepared, counts, start, end), txOptions)
    size = stepRows(heldMs / (end - start), MAX_STEP_ROWS)
    start = end
  }
}

/**
 * Undo of staged writes whose own undo failed (the store failed again), by table, per database. Their rows sit under
 * the version the table's next commit takes (nothing else writes a PGlite data dir), so that commit would make them
 * visible: it runs the undo first and fails while it cannot. Reopening the data dir removes them too.
 */
const pendingUndo = new WeakMap<CatalogContext, Map<number, (tx: Queryable) => Promise<void>>>()

/**
 * Undoes what a failed staged write did under its version: its rows go, the rows it ended are current again (at open,
 * leftovers of a killed one go the same way).
 */
async function discardStaged<P>(ctx: CatalogContext, state: TableState, version: number, change: Change<P>, prepared: P): Promise<void> {
  const undo = async (tx: Queryable) => {
    await undoVersion(tx, state.id, version)
    await change.undo?.(tx, state, prepared)
  }
  // The write's own error is what its caller gets; a failed undo is kept for the table's next commit.
  await ctx.db.transaction(undo).catch(() => {
    const byTable = pendingUndo.get(ctx) ?? new Map<number, (tx: Queryable) => Promise<void>>()
    pendingUndo.set(ctx, byTable)
    byTable.set(state.id, undo)
  })
}

/** Runs the undo a failed write left for this table, before anything else commits on it. */
async function undoLeftovers(ctx: CatalogContext, state: TableState): Promise<void> {
  const undo = pendingUndo.get(ctx)?.get(state.id)
  if (!undo) return
  try {
    await ctx.db.transaction(undo)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    throw new UnavailableError('UNAVAILABLE', `'${state.path}' still holds rows of a failed write at version ${state.version + 1} that could not be removed (${reason}); it takes no writes until they are (reopening the database removes them)`, { table: state.path }, { cause: e })
  }
  pendingUndo.get(ctx)?.delete(state.id)
}

/**
 * The same schema, whatever the order of keys: the catalog row comes back from jsonb with its keys reordered, while
 * the state a change just committed has them as built (comparing JSON text made the first write after every schema
 * change fail its final check and write everything a second time).
 */
export function sameMd(a: TableMd, b: TableMd): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b)
}

const canonicalJson = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : v))

function cloneCounts(c: WriteCounts): WriteCounts {
  return { ...c, colsWithExcs: new Set(c.colsWithExcs), updatedCols: new Set(c.updatedCols) }
}

export function toStatus(version: number, c: WriteCounts): UpdateStatus {
  return {
    version,
    numRows: c.inserted + c.updated + c.deleted,
    numInserted: c.inserted,
    numUpdated: c.updated,
    numDeleted: c.deleted,
    numComputedValues: c.computed,
    numExcs: c.excs,
    colsWithExcs: [...c.colsWithExcs],
    updatedCols: [...c.updatedCols],
  }
}
