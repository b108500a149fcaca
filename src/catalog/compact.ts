import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isTesseraError, notFound } from '../errors.ts'
import { sweepMedia } from '../media/index.ts'
import type { GcOptions, GcReport, MediaBackend } from '../media/index.ts'
import { missingDataTableId } from '../store/index.ts'
import type { Driver, KeyedMutex } from '../store/index.ts'
import type { PendingRemoval } from './data-table/index.ts'
import {
  checkpoint, collectStoreRefs, countRowVersions, countUnseen, deleteUnseenBatch, dropUnreadColumns, readableColumnIds, tableBytes, vacuumTable,
} from './data-table/index.ts'
import type { TableKind, TableMd } from './metadata.ts'
import { normalizePolicy, planRetention } from './retention.ts'
import { autoAnalyzeOf } from './auto-analyze.ts'
import { readHoldsOf } from './read-holds.ts'
import type { RetentionOverride, RetentionPolicy } from './retention.ts'
import { parsePath } from './paths.ts'
import { lockTableRow } from './state.ts'
import type { TableRow } from './state.ts'
import { openDestinations } from './destinations.ts'

// db.compact(): for each table and view, decide the retained versions (retention.ts), delete the row versions none
// of them can see in short batches (each its own transaction, so writers and readers interleave), drop data columns
// only compacted versions had, vacuum, then collect the media files no remaining row refers to (media/gc.ts).

export interface CompactOptions extends RetentionOverride, GcOptions {
  /** Only these tables/views (paths); default all. */
  readonly tables?: readonly string[]
  /**
   * VACUUM FULL (rewrite the table: the data dir shrinks, the table is held while it copies) or plain VACUUM (space
   * reused by later writes). Default: full when at least a fifth of a table's row versions went.
   */
  readonly full?: boolean
  /** Collect unreferenced media afterwards (default true). */
  readonly media?: boolean
  /** Row versions per delete statement (default 5,000). */
  readonly batchSize?: number
  /**
   * This run's database default policy, for the tables without one of their own (keepVersions/keepFor override every
   * table's): what setRetention(policy) and then compact() would do, without storing it (`compact --save --dry-run`).
   */
  readonly defaultRetention?: RetentionPolicy
}

export interface TableCompaction {
  readonly path: string
  readonly version: number
  /** The oldest version whose rows remain (earlier ones: only those in keptVersions). */
  readonly oldestVersion: number
  readonly keptVersions: readonly number[]
  /**
   * The oldest version streams in flight in this process were reading (Query.stream(), NDJSON answers, exports),
   * where it kept versions the retention rules would have removed: every version from it stayed; a later
   * compaction removes them once the streams are done. Absent when no read held anything back.
   */
  readonly heldForReads?: number
  readonly rowVersionsRemoved: number
  readonly columnsDropped: readonly string[]
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly vacuum: 'full' | 'plain' | 'none'
}

export interface CompactReport {
  readonly tables: readonly TableCompaction[]
  readonly rowVersionsRemoved: number
  /** Bytes the data tables shrank by (plain VACUUM frees space for reuse without shrinking files: often 0). */
  readonly bytesFreed: number
  /** Size of the embedded store's data dir before and after (absent on a PostgreSQL server). */
  readonly dataDirBytesBefore?: number
  readonly dataDirBytesAfter?: number
  readonly media?: GcReport
  readonly dryRun: boolean
  readonly ms: number
}

export const COMPACT_BATCH = 5000
const FULL_VACUUM_SHARE = 0.2


export interface CompactContext {
  readonly db: Driver
  readonly store: MediaBackend
  /** The embedded store's data dir (its size is reported). */
  readonly dataDir?: string
  /**
   * The tables' write locks in this process (the ones commitChange holds for a whole change). A table is compacted
   * under its lock: a staged write collects row addresses (ctids) up front and applies them step by step, and a
   * backfill fills a column no version records until its final step, so a compaction between two steps (VACUUM FULL
   * rewriting the table, or the unread column dropped) lost updates, left computed cells null, doubled a view's rows,
   * or failed the backfill with the store's raw error. Writes to that table wait for its compaction meanwhile.
   */
  readonly locks?: KeyedMutex<number>
}

export async function compactDatabase(ctx: CompactContext, options: CompactOptions = {}): Promise<CompactReport> {
  const started = Date.now()
  const { db } = ctx
  const dryRun = options.dryRun === true
  const batch = options.batchSize ?? COMPACT_BATCH
  if (options.defaultRetention) normalizePolicy(options.defaultRetention, 'defaultRetention')
  const all = (await db.query<TableRow>(`select id, path, kind, version, md from tessera.tables where kind <> 'snapshot' order by id`)).rows
  let targets = all
  if (options.tables) {
    targets = options.tables.map((given) => {
      const p = parsePath(given).path
      const t = all.find((x) => x.path === p)
      if (!t) throw notFound('TABLE_NOT_FOUND', `compact: table '${p}' does not exist (snapshots have no rows of their own)`, { path: p })
      return t
    })
  }
  const dataDirBytesBefore = ctx.dataDir ? await dirBytes(ctx.dataDir) : undefined
  const tables: TableCompaction[] = []
  // A dry run removes nothing: its media count leaves out what the plans would remove, as the real run would.
  const pending = new Map<number, PendingRemoval>()
  let anyFull = false
  for (const row of targets) {
    const id = Number(row.id)
    try {
      const compact = () => compactTable(db, id, row.path, options, batch, dryRun)
      const r = await (ctx.locks ? ctx.locks.run(id, compact) : compact())
      if (r.vacuum === 'full') anyFull = true
      tables.push(r)
      if (dryRun) pending.set(id, { retained: { oldest: r.oldestVersion, kept: r.keptVersions }, columns: r.columnsDropped })
    } catch (e) {
      // Dropped while compaction ran: nothing left to compact. Found at the catalog row (TABLE_NOT_FOUND), or after
      // it, between two delete batches or before the vacuum, as its data table gone (the store's 42P01 naming it).
      if ((isTesseraError(e) && e.code === 'TABLE_NOT_FOUND') || missingDataTableId(e) === id) continue
      throw e
    }
  }
  // A rewrite writes the whole table to the log once more; a checkpoint lets the store recycle those segments.
  if (anyFull && db.kind === 'pglite') await checkpoint(db)
  let media: GcReport | undefined
  if (options.media !== false) media = await collectMedia(db, ctx.store, options, dryRun ? pending : undefined)
  const rowVersionsRemoved = tables.reduce((a, t) => a + t.rowVersionsRemoved, 0)
  const bytesFreed = tables.reduce((a, t) => a + Math.max(0, t.bytesBefore - t.bytesAfter), 0)
  return {
    tables, rowVersionsRemoved, bytesFreed,
    ...(dataDirBytesBefore !== undefined ? { dataDirBytesBefore, dataDirBytesAfter: await dirBytes(ctx.dataDir!) } : {}),
    ...(media ? { media } : {}),
    dryRun, ms: Date.now() - started,
  }
}

async function compactTable(db: Driver, id: number, path: string, options: CompactOptions, batch: number, dryRun: boolean): Promise<TableCompaction> {
  // The decision is recorded before any row goes, on the locked catalog row: a revert or time travel that starts
  // afterwards is refused instead of reading a version while its rows disappear.
  const plan = await db.transaction(async (tx) => {
    const state = await lockTableRow(tx, id, path)
    const override = { ...(options.keepVersions !== undefined ? { keepVersions: options.keepVersions } : {}), ...(options.keepFor !== undefined ? { keepFor: options.keepFor } : {}) }
    // Read after the row is locked: a stream that pins the table from now on pins its current version, which stays.
    const held = readHoldsOf(db).oldest(id)?.version
    const p = await planRetention(tx, state, override, {
      record: !dryRun, ...(held !== undefined ? { held } : {}), ...(options.defaultRetention ? { databaseDefault: options.defaultRetention } : {}),
    })
    const readable = await readableColumnIds(tx, id, p.retained, state.md)
    const columnsDropped = await dropUnreadColumns(tx, id, readable, dryRun)
    return { ...p, version: state.version, columnsDropped }
  }, { lockKey: id })
  const bytesBefore = await tableBytes(db, id)
  const base = {
    path, version: plan.version, oldestVersion: plan.retained.oldest, keptVersions: plan.retained.kept,
    ...(plan.heldForReads !== undefined ? { heldForReads: plan.heldForReads } : {}), columnsDropped: plan.columnsDropped, bytesBefore,
  }
  if (dryRun) return { ...base, rowVersionsRemoved: await countUnseen(db, id, plan.retained), bytesAfter: bytesBefore, vacuum: 'none' }
  const total = await countRowVersions(db, id)
  let removed = 0
  for (;;) {
    const n = await db.transaction((tx) => deleteUnseenBatch(tx, id, plan.retained, batch), { lockKey: id })
    removed += n
    if (n < batch) break
    // Let queued reads and writes run between batches: the embedded store is one connection.
    await new Promise((r) => setTimeout(r, 0))
  }
  autoAnalyzeOf(db).changed(id, removed)
  let vacuum: TableCompaction['vacuum'] = 'none'
  if (removed > 0 || plan.columnsDropped.length > 0) {
    const full = options.full ?? (plan.columnsDropped.length > 0 || removed >= FULL_VACUUM_SHARE * total)
    await vacuumTable(db, id, full)
    vacuum = full ? 'full' : 'plain'
  }
  return { ...base, rowVersionsRemoved: removed, bytesAfter: await tableBytes(db, id), vacuum }
}

/**
 * Mark (every store ref a remaining row version holds) and sweep (each store's other objects): the database's store
 * and the destinations of computed media columns. A ref is missing when no store that could hold it does.
 * `pending`: a dry run's compaction plans (collectStoreRefs), whose removals count as done.
 */
export async function collectMedia(db: Driver, store: MediaBackend, options: GcOptions = {}, pending?: ReadonlyMap<number, PendingRemoval>): Promise<GcReport> {
  const stores = [store]
  for (const s of (await openDestinations(db)).stores) if (!stores.includes(s) && !stores.some((x) => sameStore(x, s))) stores.push(s)
  const referenced = await collectStoreRefs(db, [...new Set(stores.map((s) => s.refPrefix))], pending)
  const reports = [] as GcReport[]
  for (const s of stores) reports.push(await sweepMedia(s, referenced, options))
  if (reports.length === 1) return reports[0]!
  const missing = [...new Set(reports.flatMap((r) => r.missing))].filter((ref) => stores.every((s, i) => !s.owns(ref) || reports[i]!.missing.includes(ref))).sort()
  const sum = (k: 'files' | 'bytes' | 'orphans' | 'orphanBytes' | 'recent' | 'deleted' | 'bytesFreed') => reports.reduce((a, r) => a + r[k], 0)
  return {
    files: sum('files'), bytes: sum('bytes'), orphans: sum('orphans'), orphanBytes: sum('orphanBytes'), recent: sum('recent'), deleted: sum('deleted'), bytesFreed: sum('bytesFreed'),
    missing, orphanRefs: reports.flatMap((r) => r.orphanRefs).slice(0, 1000), dryRun: options.dryRun === true,
  }
}

/** Two handles on one store: the same bucket and prefix, or the same local folder. */
function sameStore(a: MediaBackend, b: MediaBackend): boolean {
  const dir = (s: MediaBackend) => (s as { dir?: string }).dir
  return a.refPrefix === b.refPrefix && dir(a) === dir(b)
}

async function dirBytes(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += await dirBytes(p)
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size
  }
  return total
}

/**
 * `tessera serve --compact-every`: compaction on a timer, one run at a time, with plain VACUUM only (a rewrite
 * holds a table for as long as it copies; run `tessera compact` for that).
 */
export class CompactionSchedule {
  readonly #timer: ReturnType<typeof setInterval>
  #running: Promise<void> | undefined
  #stopped = false

  constructor(run: () => Promise<CompactReport>, intervalMs: number, log: (line: string) => void) {
    this.#timer = setInterval(() => {
      if (this.#running || this.#stopped) return
      this.#running = run().then(
        (r) => { if (r.rowVersionsRemoved > 0 || (r.media?.deleted ?? 0) > 0) log(`compaction: ${describeCompaction(r)}`) },
        (e) => log(`compaction failed: ${(e as Error).message}`),
      ).finally(() => { this.#running = undefined })
    }, intervalMs)
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }
}

/** One line: what a compaction removed and freed. */
export function describeCompaction(r: CompactReport): string {
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`
  const parts = [`${r.dryRun ? 'would remove' : 'removed'} ${r.rowVersionsRemoved} row versions in ${r.tables.filter((t) => t.rowVersionsRemoved > 0).length} of ${r.tables.length} tables`]
  if (!r.dryRun) parts.push(`tables shrank by ${mb(r.bytesFreed)}`)
  if (r.dataDirBytesBefore !== undefined && !r.dryRun) parts.push(`data dir ${mb(r.dataDirBytesBefore)} → ${mb(r.dataDirBytesAfter!)}`)
  const held = r.tables.filter((t) => t.heldForReads !== undefined)
  if (held.length) parts.push(`${held.length} ${held.length === 1 ? 'table keeps' : 'tables keep'} older versions streams in flight read (${held.map((t) => `${t.path} from ${t.heldForReads}`).slice(0, 5).join(', ')}${held.length > 5 ? ', …' : ''}): a later run removes them`)
  if (r.media) parts.push(r.dryRun ? `${r.media.orphans} media files (${mb(r.media.orphanBytes)}) would be deleted` : `${r.media.deleted} media files deleted (${mb(r.media.bytesFreed)})`)
  return `${parts.join('; ')} (${r.ms} ms)`
}
