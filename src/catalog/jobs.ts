import type { ColumnMd, IndexMd, OnError, TableMd, VersionKind } from './metadata.ts'
import { checkEmbeddingIndex, createHnsw, createPhysicalIndexes, embedExpr, indexEmbedder, indexMdOf, withIndex, withPrebuiltVectorIndex } from '../index/index.ts'
import type { AddEmbeddingIndexOptions } from '../index/index.ts'
import { currentMediaAccess, withMediaAccess } from '../media/index.ts'
import { currentColumnAuthor } from './author.ts'
import type { MediaAccess } from '../media/index.ts'
import { addPhysicalColumn, currentRowStats, JOB_FAILURE_FIX, jobIsRunning, readJobBatch, runningJobMaking, writeJobBatch } from './data-table/index.ts'
import type { JobBatchRow } from './data-table/index.ts'
import { computeTsColumns, emptyCounts } from './rows.ts'
import type { TableState } from './state.ts'
import { commitChange, stepRows } from './commit.ts'
import { inContext } from './context.ts'
import type { CatalogContext, Table } from './table.ts'
import { alreadyExists, invalid, notFound, TesseraError } from '../errors.ts'
import { toNode, printExpr, valueColumn, containsAggregate, typeOf } from '../query/index.ts'
import type { ExprLike, ExprNode } from '../query/index.ts'
import type { Driver, Queryable } from '../store/index.ts'
import { formatType, isMedia } from '../types/index.ts'
import { checkDefinitionLiterals, refuseTextToMedia } from './media-exprs.ts'
import { withStopSignal } from '../compute/index.ts'
import type { CellError } from '../query/index.ts'
import { ColumnScope, computedPlans, directDependents, ownColumns } from './computed.ts'
import type { ComputedPlan } from './computed.ts'

// Background jobs: long backfills of a new computed column (re-embedding a table with a new model) that run in
// batches outside long transactions. The job adds the column hidden, computes rows in order of _rowid, and writes each
// batch with its progress in one short transaction, so a crash loses at most the batch in flight and a resumed job
// skips rows already done. New and updated rows compute the hidden column themselves. While the job runs, readers see
// the table as before (including an older column of the same name); when it finishes, the column is revealed (and
// replaces the old one) in one new table version.

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted'

export type JobKind = 'add_computed_column' | 'add_embedding_index'

export interface JobInfo {
  readonly id: number
  /** Unguessable; the HTTP API's name for the job (its id there). */
  readonly key: string
  readonly kind: JobKind
  readonly table: string
  /** The computed column being added, or the column an index job indexes. */
  readonly column: string
  /** Index jobs: the name of the embedding index being built. */
  readonly index?: string
  /**
   * Index jobs: what the index swapped in at the end is built with, as listIndexes() describes an index, so a caller
   * (a setup file's apply) can tell whether a pending rebuild makes the index it wants.
   */
  readonly builds?: JobIndexBuild
  /** 'interrupted': the catalog says running, but no process runs it (the process stopped); resume() continues it. */
  readonly status: JobStatus
  readonly rowsDone: number
  readonly rowsTotal: number
  readonly error: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The index an index job makes: its metric, dimensions, embedder and full-text configuration. */
export interface JobIndexBuild {
  readonly metric: IndexMd['metric']
  readonly dims: number
  readonly embed: IndexMd['embed']
  readonly fullText?: string
}

const jobIndexBuild = (index: NonNullable<JobSpec['index']>): JobIndexBuild => ({
  metric: index.metric, dims: index.dims, embed: index.embed, ...(index.fullText ? { fullText: index.fullText.language } : {}),
})

export interface StartJobOptions {
  readonly table: Table | string
  readonly column: string
  readonly expr: ExprLike
  readonly onError?: OnError
  /** 'replace': an existing column of that name keeps serving until the job finishes, then is replaced. */
  readonly ifExists?: 'error' | 'replace'
  /** Rows per batch (one short write transaction each); default 1000. Slow UDFs: smaller batches, finer progress. */
  readonly batchSize?: number
}

/**
 * A background embedding index build: the vectors fill a hidden column batch by batch (with its HNSW index kept up
 * as they arrive), and the index entry appears, replacing one of the same name, in one version at the end.
 */
export interface StartIndexJobOptions extends Omit<AddEmbeddingIndexOptions, 'ifExists'> {
  readonly table: Table | string
  /** The column to index. */
  readonly column: string
  /** 'replace': an index of that name keeps serving until the new one is complete, then is swapped out. */
  readonly ifExists?: 'error' | 'replace'
  /** Rows per batch (default 100: HNSW upkeep makes index rows costlier than plain computed values). */
  readonly batchSize?: number
}

interface JobSpec {
  readonly columnId: number
  readonly hiddenName: string
  readonly onError: OnError
  readonly ifExists: 'error' | 'replace'
  readonly batchSize: number
  /** Rows inserted after the job started compute themselves; the job covers rows up to here. */
  readonly maxRowid: number
  /** Index jobs: the index entry to add when the vectors are complete (valueColumnId and addedIn come from columnId). */
  readonly index?: Omit<IndexMd, 'valueColumnId' | 'addedIn'>
  /** The media access of whoever started the job (a scoped token over HTTP), kept so a resumed job has no more. */
  readonly access?: MediaAccess
}

interface JobRow {
  id: number
  key: string
  table_id: number
  path: string | null
  kind: JobKind
  column_name: string
  spec: JobSpec
  status: Exclude<JobStatus, 'interrupted'>
  rows_done: number
  rows_total: number
  cursor: number
  error: string | null
  created_at: Date
  updated_at: Date
}

export interface JobsContext {
  readonly db: Driver
  readonly ctx: CatalogContext
  readonly getTable: (path: string) => Promise<Table>
  /** Tessera.heldMediaRefs: which store refs the tables under some paths hold (a resumed job's ref gate). */
  readonly heldMediaRefs: (refs: readonly string[], under: readonly string[]) => Promise<Set<string>>
}

/** The index entry an index job adds: over its hidden vectors column, as of the version that added that column. */
const jobIndex = (job: JobRow, hidden: ColumnMd): IndexMd => ({ ...job.spec.index!, valueColumnId: hidden.id, addedIn: hidden.addedIn })

/**
 * A job as users know it, by what it does: job ids differ between the library (a number) and the HTTP API (a key), so
 * messages that outlive the call (a failed job's error) name neither.
 */
const jobName = (job: Pick<JobRow, 'column_name' | 'spec'>): string =>
  job.spec.index ? `background job building index '${job.spec.index.name}' on column '${job.column_name}'` : `background job computing column '${job.column_name}'`

/**
 * A job's loop in this process. Aborting its controller stops it (cancel, close, a drop of its table): calls not yet
 * made are not made (src/compute/stop.ts), and the rows computed so far are written before the loop ends.
 */
interface JobRun {
  readonly controller: AbortController
  done: Promise<void>
}

/** The abort reason when the job's table (and with it the job's row) is gone: there is nothing left to write to. */
const GONE = 'the job\'s table was dropped'

const stopped = (run: JobRun): boolean => run.controller.signal.aborted

/** How often a computing batch looks for a drop of its table (the cached state; the store every 10th time). */
const WATCH_MS = 100

/**
 * How many leading rows of a stopped batch were computed: up to the first row whose call was not made (STOPPED) or
 * failed. Only that prefix is written, since the job's cursor says every row up to it is done. A failure is left out
 * too: in a stopped batch it may be the stop's own doing (a shutdown aborts the provider requests in flight), and a
 * cell must never keep the cut as its error; a genuine failure is met again when the job resumes.
 */
function computedPrefix(ts: { errors: readonly (CellError | null)[] }): number {
  const at = ts.errors.findIndex((e) => e !== null && e !== undefined)
  return at < 0 ? ts.errors.length : at
}

const SELECT_JOB = `select j.id, j.key, j.table_id, t.path, j.kind, j.column_name, j.spec, j.status, j.rows_done, j.rows_total, j.cursor, j.error, j.created_at, j.updated_at from tessera.jobs j left join tessera.tables t on t.id = j.table_id`

export class Jobs {
  readonly #c: JobsContext
  /** Jobs this process is running: their stop controller and the loop's promise. */
  readonly #running = new Map<number, JobRun>()

  constructor(c: JobsContext) {
    this.#c = c
  }

  /** Starts a background job computing `column` from `expr`; returns once the job is recorded and running. */
  async start(options: StartJobOptions): Promise<JobInfo> {
    const table = typeof options.table === 'string' ? await this.#c.getTable(options.table) : options.table
    if (table.isReadOnly) throw invalid('READ_ONLY', `${table} is read-only`)
    const node = ownColumns(toNode(options.expr), await table.qualifyingPaths())
    if (containsAggregate(node)) throw invalid('INVALID_EXPRESSION', `a computed column cannot aggregate: ${printExpr(node)}`)
    const ifExists = options.ifExists ?? 'error'
    return this.#create(table, {
      kind: 'add_computed_column', columnName: options.column, hiddenName: (id) => `_job${id}_${options.column}`, node,
      onError: options.onError ?? 'ignore', ifExists, batchSize: options.batchSize,
      check: (state) => {
        const existing = state.md.columns.find((c) => c.name === options.column && !c.hidden)
        if (existing && ifExists !== 'replace') {
          throw alreadyExists('COLUMN_ALREADY_EXISTS', `'${state.path}' already has a column '${options.column}'; pass ifExists: 'replace' to compute the new one in the background and swap it in when done`, { column: options.column })
        }
        // What the swap refuses (#swapIn), refused before the job computes every row (and pays for every model call)
        // only to fail at its end. The swap still checks: a dependent may be added while the job runs.
        if (existing && state.md.primaryKey.includes(existing.id)) {
          throw invalid('HAS_DEPENDENTS', `column '${existing.name}' is part of the primary key of '${state.path}' and cannot be replaced`, { column: existing.name })
        }
        const deps = existing ? directDependents(state.md, existing.name) : []
        if (deps.length > 0) {
          throw invalid('HAS_DEPENDENTS', `column '${existing!.name}' is used by computed column(s) ${deps.map((d) => `'${d.name}'`).join(', ')}; drop those before a background job replaces it`, { column: existing!.name, dependents: deps.map((d) => d.name) })
        }
      },
      target: options.column,
      busy: (path, key) => alreadyExists('COLUMN_ALREADY_EXISTS', `job ${key} is already computing column '${options.column}' of '${path}'; wait for it to end, or cancel it (an interrupted one: resume or cancel it) before starting another`, { column: options.column, job: key }),
    })
  }

  /**
   * Builds an embedding index in the background (re-embedding with a new model, say): the table stays writable and an
   * index of the same name keeps serving searches until the new one is complete (ifExists: 'replace').
   */
  async startIndex(options: StartIndexJobOptions): Promise<JobInfo> {
    const table = typeof options.table === 'string' ? await this.#c.getTable(options.table) : options.table
    if (table.isReadOnly) throw invalid('READ_ONLY', `${table} is read-only`)
    const checked = checkEmbeddingIndex(table.md, table.path, options.column, options)
    const ifExists = options.ifExists ?? 'error'
    const embed = await indexEmbedder(checked, options.embed) // may load the model: before any lock
    const { valueColumnId: _v, addedIn: _a, ...index } = indexMdOf(checked, embed, { id: 0, addedIn: 0 })
    return this.#create(table, {
      kind: 'add_embedding_index', columnName: options.column, hiddenName: (id) => `_job${id}_idx_${checked.name}`, node: embedExpr(embed, options.column).node,
      // Small batches by default: each batch also inserts its rows into the HNSW index (a few ms per row), and on the
      // embedded store a batch's statement holds the process, so 100 rows keep other requests waiting well under 1 s.
      onError: options.onError ?? 'abort', ifExists, batchSize: options.batchSize ?? 100, index,
      check: (state) => {
        if (state.md.indexes?.some((i) => i.name === checked.name) && ifExists !== 'replace') {
          throw alreadyExists('INDEX_ALREADY_EXISTS', `'${state.path}' already has an index '${checked.name}'; pass ifExists: 'replace' to build the new one in the background and swap it in when done`, { index: checked.name })
        }
      },
      target: checked.name,
      busy: (path, key) => alreadyExists('INDEX_ALREADY_EXISTS', `job ${key} is already building index '${checked.name}' on '${path}'; wait for it to end, or cancel it (an interrupted one: resume or cancel it) before starting another`, { index: checked.name, job: key }),
      afterAdd: (tx, state, column) => createHnsw(tx, state.id, { valueColumnId: column.id, metric: index.metric, dims: index.dims }),
    })
  }

  /** Records a job and its hidden column (one new table version), then starts its loop in this process. */
  async #create(table: Table, job: {
    kind: JobKind
    columnName: string
    hiddenName: (jobId: number) => string
    node: ExprNode
    onError: OnError
    ifExists: 'error' | 'replace'
    batchSize: number | undefined
    index?: JobSpec['index']
    check: (state: TableState) => void
    /** What the job makes (the column's or the index's name), and the error when another job already makes it. */
    target: string
    busy: (path: string, otherKey: string) => Error
    afterAdd?: (tx: Queryable, state: TableState, column: ColumnMd) => Promise<void>
  }): Promise<JobInfo> {
    const batchSize = Math.max(1, Math.floor(job.batchSize ?? 1000))
    const access = currentMediaAccess()
    const limits = currentColumnAuthor()
    await checkDefinitionLiterals(job.node, `column '${job.columnName}'`)
    let jobId = 0
    await this.#changeMd(table.id, 'add_column', async (tx, state, version) => {
      job.check(state)
      // A second job making the same column (or index) would compute it all again and then fail at its last step
      // (the first one's column exists by then), or, with ifExists 'replace', overwrite the first one's work.
      const other = await runningJobMaking(tx, state.id, job.kind, job.target)
      if (other !== undefined) throw job.busy(state.path, other)
      const scope = new ColumnScope(state.md, (c) => `t.${valueColumn(c.id)}`)
      const type = typeOf(job.node, scope)
      if (isMedia(type)) refuseTextToMedia(job.node, scope, `column '${job.columnName}'`)
      const stats = await currentRowStats(tx, state.id)
      const r = await tx.query<{ id: number }>(
        `insert into tessera.jobs(table_id, kind, column_name, spec, status, rows_total) values ($1, $2, $3, '{}'::jsonb, 'running', $4) returning id`,
        [state.id, job.kind, job.columnName, stats.count],
      )
      jobId = Number(r.rows[0]!.id)
      const column: ColumnMd = {
        id: state.md.nextColumnId, name: job.hiddenName(jobId), type: formatType({ ...type, nullable: true }), addedIn: version,
        // The job runs with its requester's access; the column keeps a restricted requester's limits afterwards.
        computed: { expr: job.node, onError: job.onError, ...(limits ? { limits } : {}) }, hidden: true,
      }
      const spec: JobSpec = {
        columnId: column.id, hiddenName: column.name, onError: job.onError, ifExists: job.ifExists, batchSize, maxRowid: stats.maxRowId,
        ...(job.index ? { index: job.index } : {}), ...(access ? { access: storedAccess(access) } : {}),
      }
      await tx.query(`update tessera.jobs set spec = $2::jsonb where id = $1`, [jobId, JSON.stringify(spec)])
      await addPhysicalColumn(tx, state.id, column)
      await job.afterAdd?.(tx, state, column)
      return { ...state.md, columns: [...state.md.columns, column], nextColumnId: state.md.nextColumnId + 1 }
    })
    this.#launch(jobId, access)
    return this.get(jobId)
  }

  async list(): Promise<JobInfo[]> {
    const r = await this.#c.db.query<JobRow>(`${SELECT_JOB} order by j.id`)
    return r.rows.map((row) => this.#info(row))
  }

  async get(id: number): Promise<JobInfo> {
    return this.#info(await this.#row(id))
  }

  /** Resolves when the job stops running in this process (done, failed or cancelled). */
  async wait(id: number): Promise<JobInfo> {
    await this.#running.get(id)?.done
    return this.get(id)
  }

  /**
   * Stops a job: calls to UDFs and models not yet made are not made, provider requests in flight are aborted (a
   * UDF's own call in flight finishes), and the rows computed before the first one not computed are written; progress
   * is kept, so resume(id) computes only the rest. With dropColumn, the
   * partly computed hidden column is removed instead (a new table version) and the job cannot be resumed.
   */
  async cancel(id: number, options: { dropColumn?: boolean } = {}): Promise<JobInfo> {
    const row = await this.#row(id)
    const run = this.#running.get(id)
    if (run) {
      run.controller.abort()
      await run.done
    }
    if (row.status === 'running' || row.status === 'failed' || row.status === 'cancelled') {
      await this.#c.db.query(`update tessera.jobs set status = 'cancelled', updated_at = now() where id = $1 and status <> 'done'`, [id])
    }
    if (options.dropColumn && row.status !== 'done') {
      await this.#changeMd(row.table_id, 'drop_column', async (_tx, state) => ({ ...state.md, columns: state.md.columns.filter((c) => c.id !== row.spec.columnId) }))
      await this.#c.db.query(`update tessera.jobs set error = 'cancelled; the partial column was dropped' where id = $1`, [id])
    }
    return this.get(id)
  }

  /** Continues interrupted, cancelled or failed jobs (all of them when no id is given), skipping rows already done. */
  async resume(id?: number): Promise<JobInfo[]> {
    const rows = id === undefined ? (await this.#c.db.query<JobRow>(`${SELECT_JOB} where j.status <> 'done' order by j.id`)).rows : [await this.#row(id)]
    const out: JobInfo[] = []
    for (const row of rows) {
      if (this.#running.has(row.id) || row.status === 'done') {
        out.push(this.#info(row))
        continue
      }
      const state = await this.#c.ctx.refresh(row.table_id)
      if (!state.md.columns.some((c) => c.id === row.spec.columnId)) {
        throw invalid('INVALID_ARGUMENT', `the ${jobName(row)} of '${state.path}' cannot resume: its partial column was dropped (cancelled with dropColumn); start a new job`, { table: state.path, column: row.column_name })
      }
      await this.#c.db.query(`update tessera.jobs set status = 'running', error = null, updated_at = now() where id = $1`, [row.id])
      this.#launch(row.id, row.spec.access)
      out.push(await this.get(row.id))
    }
    return out
  }

  /**
   * A job's saved access with its store-ref gate rebuilt: a job resumed (after a restart, or after it failed) reads
   * media refs under the same check as the request that started it (src/media/read-gate.ts), not as an admin would.
   */
  #withRefGate(access: MediaAccess): MediaAccess {
    if (access.storeRefs || !access.storeRefScopes) return access
    const scopes = access.storeRefScopes
    return { ...access, storeRefs: { held: (refs) => this.#c.heldMediaRefs(refs, scopes), cleared: new Set(), scopes } }
  }

  /** Stops every loop of this process without changing job status (close(); after reopen they show 'interrupted'). */
  async stopAll(): Promise<void> {
    for (const run of this.#running.values()) run.controller.abort()
    await Promise.all([...this.#running.values()].map((r) => r.done))
  }

  // ---------------------------------------------------------------- internals

  async #row(id: number): Promise<JobRow> {
    const r = await this.#c.db.query<JobRow>(`${SELECT_JOB} where j.id = $1`, [id])
    if (!r.rows[0]) throw notFound('JOB_NOT_FOUND', `no job ${id} (a job goes with its table when that is dropped); db.jobs.list() shows the jobs there are`, { job: id })
    return r.rows[0]
  }

  #info(row: JobRow): JobInfo {
    const status: JobStatus = row.status === 'running' && !this.#running.has(Number(row.id)) ? 'interrupted' : row.status
    return {
      id: Number(row.id), key: row.key, kind: row.kind, table: row.path ?? `#${row.table_id}`, column: row.column_name, ...(row.spec.index ? { index: row.spec.index.name, builds: jobIndexBuild(row.spec.index) } : {}), status,
      rowsDone: Number(row.rows_done), rowsTotal: Number(row.rows_total), error: row.error, createdAt: row.created_at, updatedAt: row.updated_at,
    }
  }

  /** Runs a job's loop in this process, in its database's context, under the media access of whoever started it. */
  #launch(id: number, saved: MediaAccess | undefined): void {
    const access = saved ? this.#withRefGate(saved) : undefined
    const run: JobRun = { controller: new AbortController(), done: Promise.resolve() }
    const loop = () => inContext(this.#c.ctx.exec, () => this.#loop(id, run))
    run.done = (access ? withMediaAccess(access, loop) : loop()).catch(async (e) => {
      const msg = e instanceof TesseraError ? e.message : `${(e as Error).name ?? 'Error'}: ${(e as Error).message ?? e}`
      await this.#c.db.query(`update tessera.jobs set status = 'failed', error = $2, updated_at = now() where id = $1 and status = 'running'`, [id, msg]).catch(() => undefined)
    }).finally(() => this.#running.delete(id))
    this.#running.set(id, run)
  }

  async #loop(id: number, run: JobRun): Promise<void> {
    // Rows per batch: the job's batchSize at most, fewer when one batch's write would hold the store for longer
    // than a step (HNSW upkeep costs milliseconds a row on PGlite): a read waits for at most one such step.
    let limit: number | undefined
    for (;;) {
      if (stopped(run)) return
      const job = await this.#row(id)
      if (job.status !== 'running') return
      const state = await this.#c.ctx.refresh(job.table_id)
      const plan = computedPlans(state.md).find((p) => p.column.id === job.spec.columnId)
      if (!plan) throw invalid('INVALID_ARGUMENT', `the partial column of the ${jobName(job)} was dropped from '${state.path}'; start a new job`, { table: state.path, column: job.column_name })
      const batch = await readJobBatch(this.#c.db, state, plan, job.cursor, job.spec.maxRowid, Math.min(job.spec.batchSize, limit ?? job.spec.batchSize))
      if (batch.rows.length === 0) return this.#finish(job, run)
      // Slow work (UDFs, models, services) happens here, outside any transaction and lock.
      let ts = plan.mode === 'ts' ? await this.#compute(job, state, plan, batch.rows, run) : undefined
      let rows = batch.rows
      if (stopped(run)) {
        // Stopped mid-batch: the answers already paid for are kept (a resume asks only for the rest), unless the
        // table is gone. An SQL-mode batch computes in its write statement, so nothing of it was done yet.
        if (!ts || run.controller.signal.reason === GONE) return
        rows = rows.slice(0, computedPrefix(ts))
        ts = { values: ts.values.slice(0, rows.length), errors: ts.errors.slice(0, rows.length) }
        if (rows.length === 0) return
      }
      const last = Number(rows.at(-1)!._rowid)
      // A batch waits behind foreground writes on the embedded store, but is never starved (src/store/scheduler.ts).
      // Sized from the store time the batch held (from its transaction's start), never from its wait for the table's
      // lock or for its turn behind reads and writes: counting that shrank batches toward one row (commit.ts).
      let writeStarted = 0
      await this.#c.ctx.locks.run(state.id, () => this.#c.db.transaction(async (tx) => {
        writeStarted = performance.now()
        await writeJobBatch(tx, state, plan, rows, ts, job.column_name)
        await tx.query(`update tessera.jobs set cursor = $2, rows_done = rows_done + $3, updated_at = now() where id = $1`, [id, last, rows.length])
      }, { lockKey: state.id, priority: 'background' }))
      limit = stepRows((performance.now() - writeStarted) / rows.length, job.spec.batchSize)
    }
  }

  /**
   * Computes a batch's TypeScript values under the run's stop signal, watching meanwhile for a drop of the table
   * (which stops the job too: its requests would be paid for a table that is gone). A stopped row does not fail an
   * onError 'abort' column (computeTsColumns): its batch keeps the rows computed before it, as any column's does.
   */
  async #compute(job: JobRow, state: TableState, plan: ComputedPlan, rows: readonly JobBatchRow[], run: JobRun): Promise<{ values: unknown[]; errors: (CellError | null)[] } | undefined> {
    const unwatch = this.#watch(job, run)
    try {
      const computed = await withStopSignal(run.controller.signal, () => computeTsColumns([plan], rows, state.path, emptyCounts(), { job: { columnName: job.column_name, fix: JOB_FAILURE_FIX } }))
      return computed.get(plan.column.id)!
    } catch (e) {
      if (stopped(run)) return undefined
      throw e
    } finally {
      unwatch()
    }
  }

  /**
   * Stops `run` when its job's row is gone (its table was dropped, here or by another process) or no longer running
   * (cancelled by another process). A drop here shows at once in the cached state, which is read often; the store is
   * asked then, and every second anyway. Returns the function that ends the watch.
   */
  #watch(job: JobRow, run: JobRun): () => void {
    let ticks = 0
    let asking = false
    const suspect = (): boolean => {
      try {
        return !this.#c.ctx.state(job.table_id).md.columns.some((c) => c.id === job.spec.columnId)
      } catch {
        return true
      }
    }
    const timer = setInterval(() => {
      ticks++
      if (asking || stopped(run) || (ticks % 10 !== 0 && !suspect())) return
      asking = true
      jobIsRunning(this.#c.db, job.id)
        .then((state) => state !== 'running' && run.controller.abort(state === 'gone' ? GONE : undefined), () => undefined)
        .finally(() => (asking = false))
    }, WATCH_MS)
    timer.unref?.()
    return () => clearInterval(timer)
  }

  /**
   * Every row has its value: an index job's native graph is built first (on the embedded store), while the old index
   * of that name keeps serving, so that searches never fall back to exact ranking across the swap
   * (src/index/ann/manager.ts, VectorIndexes#prebuilt); then the column is revealed. A job stopped meanwhile (cancel,
   * close) is left as it is, to resume.
   */
  async #finish(job: JobRow, run: JobRun): Promise<void> {
    if (!job.spec.index) return this.#reveal(job)
    const state = await this.#c.ctx.refresh(job.table_id)
    const hidden = state.md.columns.find((c) => c.id === job.spec.columnId)
    if (!hidden) throw invalid('INVALID_ARGUMENT', `the partial column of the ${jobName(job)} was dropped from '${state.path}'; start a new job`, { table: state.path, column: job.column_name })
    await withPrebuiltVectorIndex(this.#c.db, state.id, jobIndex(job, hidden), () => stopped(run), () => this.#reveal(job))
  }

  /** Reveals the finished column (replacing an old one of that name) in one new table version. */
  async #reveal(job: JobRow): Promise<void> {
    await this.#changeMd(job.table_id, 'add_column', async (tx, state) => {
      const hidden = state.md.columns.find((c) => c.id === job.spec.columnId)
      if (!hidden) throw invalid('INVALID_ARGUMENT', `the partial column of the ${jobName(job)} was dropped from '${state.path}'; start a new job`, { table: state.path, column: job.column_name })
      if (job.spec.index) {
        await tx.query(`update tessera.jobs set status = 'done', updated_at = now() where id = $1`, [job.id])
        return this.#swapInIndex(tx, state, job, hidden)
      }
      const old = state.md.columns.find((c) => c.name === job.column_name && !c.hidden)
      let columns = state.md.columns
      if (old) {
        if (job.spec.ifExists !== 'replace') throw alreadyExists('COLUMN_ALREADY_EXISTS', `'${state.path}' got a column '${job.column_name}' while the ${jobName(job)} ran; cancel the job or drop that column`, { column: job.column_name })
        if (state.md.primaryKey.includes(old.id)) throw invalid('HAS_DEPENDENTS', `column '${old.name}' is part of the primary key of '${state.path}' and cannot be replaced`, { column: old.name })
        const deps = directDependents(state.md, old.name).filter((d) => d.id !== hidden.id)
        if (deps.length > 0) throw invalid('HAS_DEPENDENTS', `column '${old.name}' is used by computed column(s) ${deps.map((d) => `'${d.name}'`).join(', ')}; drop those before the ${jobName(job)} can replace it, then resume it`, { column: old.name })
        // As in dropColumn, the old data column stays for earlier versions.
        columns = columns.filter((c) => c.id !== old.id)
      }
      const { hidden: _h, ...shown } = hidden
      await tx.query(`update tessera.jobs set status = 'done', updated_at = now() where id = $1`, [job.id])
      return { ...state.md, columns: columns.map((c) => (c.id === hidden.id ? { ...shown, name: job.column_name } : c)) }
    })
  }

  /** An index job's end: its entry replaces one of the same name (whose vectors column goes, as in dropEmbeddingIndex). */
  async #swapInIndex(tx: Queryable, state: TableState, job: JobRow, hidden: ColumnMd): Promise<TableMd> {
    const spec = job.spec.index!
    const old = state.md.indexes?.find((i) => i.name === spec.name)
    if (old && job.spec.ifExists !== 'replace') {
      throw alreadyExists('INDEX_ALREADY_EXISTS', `'${state.path}' got an index '${spec.name}' while the ${jobName(job)} ran; cancel the job or drop that index`, { index: spec.name })
    }
    if (!state.md.columns.some((c) => c.id === spec.columnId)) throw invalid('INVALID_ARGUMENT', `column '${job.column_name}', which the ${jobName(job)} indexes, was dropped from '${state.path}'`)
    const idx = jobIndex(job, hidden)
    await createPhysicalIndexes(tx, state.id, idx)
    return withIndex(state.md, idx)
  }

  /** A schema change of the job's table through the commit unit (src/catalog/commit.ts). */
  async #changeMd(tableId: number, kind: VersionKind, apply: (tx: Queryable, state: TableState, version: number) => Promise<TableMd>): Promise<void> {
    await this.#c.ctx.refresh(tableId)
    await commitChange(this.#c.ctx, tableId, { kind, apply: (tx, state, version) => apply(tx, state, version) })
  }
}

/**
 * The access a job keeps for a resume after a restart, as JSON: of its request's store-ref gate only the scopes it
 * looks under (the gate itself is a function, and its uploads the request's own), from which a resume rebuilds it.
 */
function storedAccess(access: MediaAccess): MediaAccess {
  const { storeRefs: gate, ...stored } = access
  return gate ? { ...stored, storeRefScopes: gate.scopes } : stored
}
