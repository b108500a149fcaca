import { alreadyExists, ConcurrencyError, invalid, notFound, OPTION_VALUES as V, refuseUnknownOptions, TesseraError } from '../errors.ts'
import { ColumnScope, computedPlans, ownColumns, readByValue, unstoredLimits } from './computed.ts'
import type { ComputedPlan } from './computed.ts'
import { inContext } from './context.ts'
import type { ExecContext } from './context.ts'
import { isSqlExpr, Expr, toNode, colNode, fnNode, mapNodes, isCol, exprText, printExpr, Query, LocalExecutor, inlineUnstored, MAX_VERSION, valueColumn, containsAggregate, typeOf } from '../query/index.ts'
import type { ExprLike, ExprNode, Joinable, SelectArg, ResultSet, JoinHow, QuerySource } from '../query/index.ts'
import type { KeyedMutex, Driver, Queryable } from '../store/index.ts'
import { formatType, isMedia, parseType } from '../types/index.ts'
import { checkDefinitionLiterals, refuseTextToMedia } from './media-exprs.ts'
import { addPhysicalColumn, backfillRows, countCurrentRows, dropPhysicalColumn, holdTableRow, latestVersionKind, readCurrentInputs, runningJobColumns, undoVersion, undoVersionStep, versionStamp } from './data-table/index.ts'
import type { ColumnMd, IfExists, IfNotExists, OnError, TableMd, UpdateStatus, VersionInfo, VersionKind } from './metadata.ts'
import { checkName } from './paths.ts'
import type { ComputedInPlace, WriteCounts } from './rows.ts'
import {
  checkUpdateValues, computeInPlace, computeTsColumns, isExprJson, deleteRows, dependentPlans, emptyCounts, insertRows, matchingRows, precomputeUpdate, sliceComputed,
  writeComputedValues,
  updateRows,
} from './rows.ts'
import type { TableState } from './state.ts'
import { mdAtVersion } from './state.ts'
import { autoAnalyzeOf } from './auto-analyze.ts'
import { commitChange, runInSteps, toStatus } from './commit.ts'
import { dropColumnStep, dropReplaced, withoutReplaced } from './column-drop.ts'
import type { Change } from './commit.ts'
import { prepareInsert, withOnErrorMd } from './insert-prepare.ts'
import type { PreparedInsert } from './insert-prepare.ts'
import { BulkLoad } from './data-table/staging.ts'
import { restoreScalarIndexes, scalarIndexColumn, setScalarIndex } from './scalar-index.ts'
import { backfilledRows, batchRows } from './failed-rows.ts'
import { groupBySetColumns, keyOf, missingKeyError, partitionByExistingKey, pkColumns, setColumns, storedRow, updateByKey } from './upsert.ts'
import type { Row } from './validate-rows.ts'
import { inputColumns, validateRows, validateRowsYielding } from './validate-rows.ts'
import * as indexes from '../index/index.ts'
import type { AddEmbeddingIndexOptions, HybridSearchOptions, IndexInfo } from '../index/index.ts'
import { validateMediaRows } from '../media/index.ts'
import { currentColumnAuthor, withColumnAuthor } from './author.ts'
import { checkDestination, recordDestination } from './destinations.ts'
import { readHoldsOf } from './read-holds.ts'
import { isRetained, retainedVersions } from './retention.ts'
import type { MediaEnv } from '../media/index.ts'

/** What a Table handle needs from the database it belongs to. */
export interface CatalogContext {
  readonly db: Driver
  /** Serialises writes and schema changes per table inside this process. */
  readonly locks: KeyedMutex<number>
  /** The committed state of a table (cached); throws TABLE_NOT_FOUND once dropped. */
  state(id: number): TableState
  /** Replaces the cached state after a committed change. */
  setState(state: TableState): void
  /** Re-reads a table's state from the store (another process changed it, or a transaction rolled back). */
  refresh(id: number): Promise<TableState>
  /**
   * Called after a committed change, so dependents (views, indexes, jobs) can follow. The change has committed: a
   * dependent that cannot follow is left behind (and reported), never failing the change.
   */
  afterChange?(state: TableState, kind: VersionKind | 'revert'): Promise<void>
  /**
   * Called in the final transaction of a change of a table's columns (`locked`: the table before it): throws, naming
   * the view, when a view over the table could not follow the new schema, so that nothing commits.
   */
  checkFollowers?(tx: Queryable, locked: TableState, after: TableMd): Promise<void>
  /** Where uploaded media bytes go and remote media is cached; media cells are normalized (and checked) with it. */
  readonly media?: MediaEnv
  /** The database's execution context: writes (commit.ts), queries and jobs run inside it (catalog/context.ts). */
  readonly exec?: ExecContext
  /**
   * Called before a read of a live view: one a failed sync left behind tries to follow its base again, and the read
   * fails with the reason if it still cannot, as opening it does (a handle taken before served the old rows silently).
   */
  beforeViewRead?(viewId: number): Promise<void>
}

export interface ColumnInfo {
  readonly name: string
  readonly type: string
  readonly computedWith?: string
  readonly expr?: ExprNode
  readonly onError?: OnError
  readonly primaryKey: boolean
  readonly addedIn: number
  /** A scalar index serves filters on the column (addScalarIndex). */
  readonly indexed?: boolean
}

export interface InsertOptions {
  /** 'abort' (default) fails the whole insert on the first computed-column error; 'ignore' stores per-cell errors. */
  readonly onError?: OnError
}

export interface UpdateOptions {
  readonly where?: ExprLike
  /** Recompute computed columns that depend on the updated columns (default true). */
  readonly cascade?: boolean
}

export interface BatchUpdateOptions {
  /** What to do with a row whose primary key does not exist: 'error' (default), 'ignore' or 'insert'. */
  readonly ifNotExists?: 'error' | 'ignore' | 'insert'
  readonly cascade?: boolean
}

export interface AddComputedColumnOptions {
  readonly onError?: OnError
  readonly ifExists?: IfExists
  /** false: nothing is stored or backfilled; the value is computed from the expression whenever it is read. */
  readonly stored?: boolean
  /** Internal (embedding indexes): a column not selected by default, and extra work in the same version. */
  readonly hidden?: boolean
  readonly afterAdd?: (tx: Queryable, md: TableMd, column: ColumnMd, state: TableState) => Promise<TableMd>
  /** Media columns: store computed values here ('s3://bucket/prefix' or a folder) instead of the database's store. */
  readonly destination?: string
}

export interface RecomputeOptions {
  readonly where?: ExprLike
  /** Only rows whose value failed (errortype is set). */
  readonly errorsOnly?: boolean
  readonly cascade?: boolean
}

type ColumnProxy = Record<string, Expr>

export class Table implements Joinable {
  readonly #ctx: CatalogContext
  readonly #id: number
  readonly #pinned: { readonly version: number; readonly md: TableMd; readonly path: string } | undefined
  #proxy: ColumnProxy | undefined
  #queries: LocalExecutor | undefined

  constructor(ctx: CatalogContext, id: number, pinned?: { version: number; md: TableMd; path: string }) {
    this.#ctx = ctx
    this.#id = id
    this.#pinned = pinned
  }

  get id(): number {
    return this.#id
  }

  get path(): string {
    return this.#pinned?.path ?? this.#ctx.state(this.#id).path
  }

  get name(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1)
  }

  /** The version this handle reads: a pinned one (time travel) or the current one. */
  get version(): number {
    return this.#pinned?.version ?? this.#ctx.state(this.#id).version
  }

  /** The version a time-travel handle ('path:N') is pinned at; undefined for the live table. */
  get pinnedVersion(): number | undefined {
    return this.#pinned?.version
  }

  get isReadOnly(): boolean {
    return this.#pinned !== undefined || this.#ctx.state(this.#id).kind === 'snapshot'
  }

  get md(): TableMd {
    return this.#pinned?.md ?? this.#ctx.state(this.#id).md
  }

  /**
   * @internal The paths that qualify this table's columns in its own expressions (ownColumns): its path, then for a
   * view its bases', whose columns it carries.
   */
  async qualifyingPaths(): Promise<string[]> {
    const out = [this.path]
    for (let md = this.md; md.view;) {
      const base = await this.#tableState(md.view.baseId)
      out.push(base.path)
      md = base.md
    }
    return out
  }

  /** Another table's committed state; a base under a view opened on its own (a view of a view) may not be loaded yet. */
  async #tableState(id: number): Promise<TableState> {
    try {
      return this.#ctx.state(id)
    } catch {
      return this.#ctx.refresh(id)
    }
  }

  /** Column references: `docs.c.text.upper()`. */
  get c(): ColumnProxy {
    this.#proxy ??= new Proxy({} as ColumnProxy, {
      get: (_t, name) => (typeof name === 'string' ? this.col(name) : undefined),
      has: (_t, name) => typeof name === 'string' && this.md.columns.some((c) => c.name === name),
      ownKeys: () => this.md.columns.filter((c) => !c.hidden).map((c) => c.name),
      getOwnPropertyDescriptor: (_t, name) =>
        typeof name === 'string' && this.md.columns.some((c) => c.name === name) ? { enumerable: true, configurable: true, value: this.col(name) } : undefined,
    })
    return this.#proxy
  }

  col(name: string): Expr {
    if (!this.md.columns.some((c) => c.name === name)) {
      throw notFound('COLUMN_NOT_FOUND', `unknown column '${name}' in '${this.path}'; columns are: ${this.md.columns.filter((c) => !c.hidden).map((c) => c.name).join(', ')}`, { column: name, table: this.path })
    }
    return new Expr(colNode(name, this.path))
  }

  columns(): ColumnInfo[] {
    const md = this.md
    return md.columns.filter((c) => !c.hidden).map((c) => ({
      name: c.name,
      type: c.type,
      ...(c.computed ? { computedWith: exprText(c.computed.expr), expr: c.computed.expr, onError: c.computed.onError } : {}),
      primaryKey: md.primaryKey.includes(c.id),
      addedIn: c.addedIn,
      ...(c.indexed ? { indexed: true } : {}),
    }))
  }

  /** { column: type } of the visible columns. */
  schema(): Record<string, string> {
    return Object.fromEntries(this.md.columns.filter((c) => !c.hidden).map((c) => [c.name, c.type]))
  }

  get primaryKey(): string[] {
    const md = this.md
    return md.primaryKey.map((id) => md.columns.find((c) => c.id === id)!.name)
  }

  /**
   * The refusal to recompute a view's column carried from a computed column of its base: the base computes it (the
   * view copies its values), so it is recomputed there and the view follows. It said "'x' is not a computed column".
   */
  async #carriedComputed(state: TableState, c: ColumnMd): Promise<TesseraError | undefined> {
    const pair = state.md.view?.baseColumns.find(([vid]) => vid === c.id)
    if (!pair) return undefined
    const base = await this.#tableState(state.md.view!.baseId)
    const bc = base.md.columns.find((x) => x.id === pair[1])
    if (!bc?.computed) return undefined
    return invalid('INVALID_ARGUMENT', `'${c.name}' of view '${state.path}' is computed by its base '${base.path}' (as '${bc.name}'); recompute it there and the view follows`, { column: c.name, table: base.path })
  }

  // ---------------------------------------------------------------- queries

  querySource(): QuerySource {
    const snap = this.md.snapshot
    // A snapshot has no rows of its own: it reads its base's rows at the pinned version.
    if (snap) return { path: this.path, tableId: snap.baseId, md: this.md, version: snap.version }
    return { path: this.path, tableId: this.#id, md: this.md, version: this.#pinned?.version, ...(this.#ctx.db.capabilities.stagedWrites ? { stagedWrites: true } : {}) }
  }

  /**
   * What tells the commit this handle reads (its pinned version, else the current one) from another that took the
   * same number after a revert: the version's commit time, as the catalog keeps it. Undefined when that version is
   * gone (reverted since). Streams compare it after every page (the HTTP server for its client: server/).
   */
  async versionStamp(): Promise<string | undefined> {
    const source = this.querySource()
    return versionStamp(this.#ctx.db, source.tableId, source.version ?? this.version)
  }

  query(): Query {
    // One executor per handle: what it holds (connection, read-only or not, context) never changes for a handle.
    this.#queries ??= new LocalExecutor({
      db: this.#ctx.db,
      // Any table of this database: a stream pins each table it reads at that table's own current version.
      currentVersion: async (tableId) => (await this.#ctx.refresh(tableId)).version,
      // A version gone because its table was dropped is that table's 404 (refresh throws it), not a revert.
      versionStamp: async (tableId, version) => (await versionStamp(this.#ctx.db, tableId, version)) ?? (await this.#ctx.refresh(tableId), undefined),
      // Compaction in this process keeps what a stream holds (read-holds.ts); another process's is told after a page.
      holdVersion: (tableId, version) => readHoldsOf(this.#ctx.db).hold(tableId, version),
      versionRetained: async (tableId, version) => isRetained(await retainedVersions(this.#ctx.db, tableId), version),
      // The join bound estimates with statistics brought up to date first, joining the ANALYZE already queued.
      refreshStatistics: (tableIds, lacking) => autoAnalyzeOf(this.#ctx.db).refresh(tableIds, lacking),
      ...(this.isReadOnly ? {} : {
        update: (where: ExprNode | undefined, values: Record<string, unknown>) => this.#update(values, where, true),
        delete: (where: ExprNode | undefined) => this.#delete(where),
      }),
      rewrite: (spec) => indexes.rewriteSimilarity(this.#ctx.db, spec),
      // Unstored computed columns are computed for whoever reads: within their authors' limits.
      run: async (fn, spec) => {
        if (this.#pinned === undefined && this.md.view && this.#ctx.beforeViewRead) await this.#ctx.beforeViewRead(this.#id)
        const read = spec && unstoredLimits(spec)
        return inContext(this.#ctx.exec, read ? () => withColumnAuthor(read.limits, read.what, fn) : fn)
      },
    })
    return new Query(this.#queries, { from: this.querySource(), joins: [], orderBy: [] })
  }

  select<R extends Record<string, unknown> = Record<string, unknown>>(...args: SelectArg[]): Query<R> { return this.query().select<R>(...args) }
  where(cond: ExprLike): Query { return this.query().where(cond) }
  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): Query { return this.query().orderBy(expr, direction) }
  groupBy(...exprs: ExprLike[]): Query { return this.query().groupBy(...exprs) }
  limit(n: number): Query { return this.query().limit(n) }
  sample(options: { n?: number; fraction?: number; seed?: number }): Query { return this.query().sample(options) }
  join(other: Joinable, options: { on?: ExprLike; how?: JoinHow }): Query { return this.query().join(other, options) }
  distinct(): Query { return this.query().distinct() }
  collect(): Promise<ResultSet> { return this.query().collect() }
  head(n = 10): Promise<ResultSet> { return this.query().head(n) }
  tail(n = 10): Promise<ResultSet> { return this.query().tail(n) }
  count(): Promise<number> { return this.query().count() }
  stream(options: { batchSize?: number } = {}): AsyncGenerator<Record<string, unknown>> { return this.query().stream(options) }

  // ---------------------------------------------------------------- writes

  /** Rows of a view come from its base: they are never inserted, updated or deleted directly. */
  #rowsWritable(): void {
    const state = this.#writable()
    if (state.kind === 'view') throw invalid('READ_ONLY', `'${state.path}' is a view: its rows follow its base table; change the base instead`)
  }

  #writable(): TableState {
    if (this.#pinned) throw invalid('READ_ONLY', `'${this.path}:${this.#pinned.version}' is a past version and read-only; write to '${this.path}'`)
    const state = this.#ctx.state(this.#id)
    if (state.kind === 'snapshot') throw invalid('READ_ONLY', `'${state.path}' is a snapshot and read-only`)
    return state
  }

  /** A change of this table through the one commit unit (src/catalog/commit.ts). */
  async #write<P>(
    kind: VersionKind,
    prepare: (state: TableState, counts: WriteCounts) => Promise<P>,
    apply: (tx: Queryable, state: TableState, version: number, prepared: P, counts: WriteCounts) => Promise<TableMd | void>,
  ): Promise<UpdateStatus> {
    this.#writable()
    return (await commitChange(this.#ctx, this.#id, { kind, prepare, apply })).status
  }

  /** Inserts rows (objects keyed by column name). All or nothing: a bad row rejects the batch, naming row and column. */
  async insert(rows: readonly Row[] | Row, options: InsertOptions = {}): Promise<UpdateStatus> {
    const list = Array.isArray(rows) ? rows : [rows]
    refuseUnknownOptions('insert', options, { onError: V.onError })
    this.#rowsWritable()
    const onError = options.onError ?? 'abort'
    if (list.length >= DIRECT_INSERT_MIN_ROWS && BulkLoad.loadsDirect(this.#ctx, this.#id, onError)) {
      const status = await this.#insertByCopy(list, onError)
      if (status) return status
    }
    const { status } = await commitChange(this.#ctx, this.#id, {
      kind: 'insert',
      prepare: async (state, counts) => {
        const checked = await validateRowsYielding(state.md, state.path, list)
        return prepareInsert(this.#ctx.media, state, checked, onError, counts, (valid) => checkDuplicateKeys(state, valid))
      },
      rows: {
        count: (p) => p.valid.length,
        write: (tx, state, version, p, counts, start, end) =>
          insertRows(tx, { ...state, md: withOnErrorMd(state.md, onError) }, version, p.valid, p.ts, counts, undefined, p.mediaErrors, start, end),
      },
    })
    return status
  }

  /**
   * A big insert on a store that COPYs straight into the data table (PGlite): the rows are prepared as for any insert
   * (validated, media checked, TypeScript columns computed, outside the table's lock), then COPYed under one
   * not-yet-visible version by a direct bulk load, which costs the store a fraction of the jsonb statements of the
   * staged insert (BENCHMARKS.md, issue 22). Undefined where the store or the table's columns need the staged insert,
   * or where the table's columns changed between preparing and writing (the staged insert then prepares again).
   */
  async #insertByCopy(list: readonly Row[], onError: OnError): Promise<UpdateStatus | undefined> {
    const state = this.#ctx.state(this.#id)
    const counts = emptyCounts()
    // Where preparing is validating only, the load starts first: its turn of the table's lock, its version and its
    // _rowid block come from the store while this thread validates (a round trip the first COPY waited for). Slow
    // preparation (media checks, computed columns) must not hold the table's lock, so there it starts after.
    const early = preparesQuickly(state.md) ? BulkLoad.openDirect(this.#ctx, this.#id, onError, state.md, list.length) : undefined
    let prepared: PreparedInsert
    try {
      const checked = await validateRowsYielding(state.md, state.path, list)
      prepared = await prepareInsert(this.#ctx.media, state, checked, onError, counts, (valid) => checkDuplicateKeys(state, valid))
    } catch (e) {
      await early?.discard()
      throw e
    }
    const load = early ?? BulkLoad.openDirect(this.#ctx, this.#id, onError, state.md, prepared.valid.length)
    if (!load) return undefined
    try {
      await load.addPrepared(prepared, counts)
      return await load.commit()
    } catch (e) {
      await load.discard()
      if (e instanceof ConcurrencyError && e.code === 'CONCURRENCY_CONFLICT') return undefined
      throw e
    }
  }

  /**
   * A bulk load (imports): rows are staged outside any version and inserted by its commit() as ONE version, which
   * readers see only once it is complete; until then (or after discard()) the table is unchanged (staging.ts).
   */
  bulkLoad(options: InsertOptions = {}): Promise<BulkLoad> {
    refuseUnknownOptions('bulkLoad', options, { onError: V.onError })
    this.#rowsWritable()
    return BulkLoad.open(this.#ctx, this.#id, options.onError ?? 'abort')
  }

  /** Updates rows matching `where` (all rows when omitted). Values are literals or expressions over the old row. */
  async update(values: Record<string, unknown>, options: UpdateOptions = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('update', options, { where: true, cascade: V.flag })
    return this.#update(values, options.where === undefined ? undefined : ownColumns(toNode(options.where), await this.qualifyingPaths()), options.cascade ?? true)
  }

  async #update(values: Record<string, unknown>, where: ExprNode | undefined, cascade: boolean): Promise<UpdateStatus> {
    this.#rowsWritable()
    this.#writable()
    // A filter on a stored: false column filters on its definition.
    if (where) where = inlineUnstored(where, [this.querySource()])
    return this.#changeRows('update', async (state) => {
      if (where) checkPredicate(state, where)
      const checked = checkUpdateValues(state.md, state.path, await this.#mediaValues(state, values), await this.qualifyingPaths())
      for (const [c, node] of checked) if (isMedia(parseType(c.type))) await checkDefinitionLiterals(node, `update, column '${c.name}'`)
      const recompute = cascade ? dependentPlans(state.md, new Set([...checked.keys()].map((c) => c.name))) : []
      return { where, values: checked, recompute }
    })
  }

  /**
   * An update or recompute of the rows matching a filter, through the commit unit. TypeScript-computed values are
   * computed before any write; on a store that stages writes (PGlite) the matching row versions are listed first and
   * changed a slice per step under the next version, which readers see only once its final step commits.
   */
  async #changeRows(kind: 'update' | 'recompute', describe: (state: TableState) => Promise<RowsChange>): Promise<UpdateStatus> {
    const staged = this.#ctx.db.capabilities.stagedWrites === true
    const { status } = await commitChange(this.#ctx, this.#id, {
      kind,
      prepare: async (state, counts) => {
        const change = await describe(state)
        const computed = await precomputeUpdate(this.#ctx.db, state, change.where, change.values, change.recompute, counts)
        const tids = staged ? (computed?.tids ?? (await matchingRows(this.#ctx.db, state, change.where))) : undefined
        return { ...change, computed, tids }
      },
      readsRows: (p) => p.computed !== undefined,
      rows: {
        count: (p) => p.tids?.length ?? 0,
        write: async (tx, state, version, p, counts, start, end) => {
          await updateRows(tx, state, version, p.where, p.values, p.recompute, counts, p.tids!.slice(start, end))
          if (p.computed) await writeComputedValues(tx, state, sliceComputed(p.computed, start, end), `_v_min = ${Math.trunc(version)}`)
        },
      },
      apply: async (tx, state, version, p, counts) => {
        if (p.tids) return
        await updateRows(tx, state, version, p.where, p.values, p.recompute, counts)
        if (p.computed) await writeComputedValues(tx, state, p.computed, `_v_min = ${Math.trunc(version)}`)
      },
    })
    return status
  }

  /** Literal values for media columns get the same treatment as inserted ones (stored, normalized, checked). */
  async #mediaValues(state: TableState, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const media = this.#ctx.media
    if (!media || !values || typeof values !== 'object') return values
    // A literal expression ({ lit: 'media://…', type: 'image' }) is a literal value too: unchecked, it wrote any ref
    // (a scoped token another tenant's object: src/media/ref-gate.ts) and skipped the file check.
    const literal = Object.fromEntries(Object.entries(values).flatMap(([k, v]) => {
      const c = state.md.columns.find((x) => x.name === k)
      if (!c || c.computed || !isMedia(parseType(c.type)) || v === null || v === undefined) return []
      const node = v instanceof Expr ? v.node : isExprJson(v) ? v : undefined
      if (!node) return [[k, v]]
      return 'lit' in node && typeof node.lit === 'string' ? [[k, node.lit]] : []
    }))
    if (Object.keys(literal).length === 0) return values
    const [checked] = await validateMediaRows(state.md, state.path, [literal], media)
    return { ...values, ...checked }
  }

  async delete(options: { where?: ExprLike } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('delete', options, ['where'])
    return this.#delete(options.where === undefined ? undefined : ownColumns(toNode(options.where), await this.qualifyingPaths()))
  }

  async #delete(where: ExprNode | undefined): Promise<UpdateStatus> {
    this.#rowsWritable()
    if (where) where = inlineUnstored(where, [this.querySource()])
    const staged = this.#ctx.db.capabilities.stagedWrites === true
    const { status } = await commitChange(this.#ctx, this.#id, {
      kind: 'delete',
      // On a store that stages writes, the rows to end are listed first and ended a slice per step (see #changeRows).
      prepare: async (state) => {
        if (where) checkPredicate(state, where)
        return staged ? await matchingRows(this.#ctx.db, state, where) : undefined
      },
      rows: {
        count: (tids) => tids?.length ?? 0,
        write: (tx, state, version, tids, counts, start, end) => deleteRows(tx, state, version, where, counts, tids!.slice(start, end)),
      },
      apply: async (tx, state, version, tids, counts) => {
        if (!tids) await deleteRows(tx, state, version, where, counts)
      },
    })
    return status
  }

  /**
   * Updates rows by primary key (each row names its key and the columns to change). Rows whose key is missing are
   * an error, skipped, or inserted, per ifNotExists.
   */
  async batchUpdate(rows: readonly Row[], options: BatchUpdateOptions = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('batchUpdate', options, { ifNotExists: ['error', 'ignore', 'insert'], cascade: V.flag })
    const ifNotExists = options.ifNotExists ?? 'error'
    const cascade = options.cascade ?? true
    this.#rowsWritable()
    this.#writable()
    const { status } = await commitChange(this.#ctx, this.#id, {
      kind: ifNotExists === 'insert' ? 'upsert' : 'update',
      prepare: async (state, counts) => {
        const pk = pkColumns(state).map((c) => c.name)
        const partial = await mediaRows(this.#ctx, state, validateRows(state.md, state.path, rows, { partial: true, required: pk }))
        checkDuplicateKeys(state, partial)
        const tsPlans = cascade ? computedPlans(state.md).filter((p) => p.mode === 'ts') : []
        const { existing, missing, current } = await partitionByExistingKey(this.#ctx.db, state, partial, tsPlans.length > 0 ? [...inputColumns(state.md).map((c) => c.column), ...readByValue(state.md, tsPlans)] : [])
        if (missing.length > 0 && ifNotExists === 'error') throw missingKeyError(state, missing[0]!)
        const inserts = ifNotExists === 'insert' ? await mediaRows(this.#ctx, state, validateRows(state.md, state.path, missing.map((m) => rows[partial.indexOf(m)]!))) : []
        // A failing row is named by its place in `rows`: the inserts and the regrouped updates are batches of their own.
        const ts = await computeTsColumns(computedPlans(state.md), inserts, state.path, counts, { rows: batchRows(state, missing, (m) => partial.indexOf(m)) })
        return { ...(await precomputeByKey(state, existing, current, tsPlans, counts, (r) => partial.indexOf(r))), inserts, ts }
      },
      // TypeScript cascades were computed from the rows as read: a change in between makes it prepare again.
      readsRows: (p) => p.segments.length > 0,
      // Updates by key, then inserts: in steps on a store that stages writes, else in the final transaction.
      rows: {
        count: (p) => p.existing.length + p.inserts.length,
        write: async (tx, state, version, p, counts, start, end) => {
          const updated = p.existing.length
          if (start < updated) {
            const last = Math.min(end, updated)
            await updateByKey(tx, state, version, p.existing.slice(start, last), cascade, counts)
            for (const seg of p.segments) {
              const from = Math.max(start, seg.start), to = Math.min(last, seg.end)
              if (from < to) await writeComputedValues(tx, state, sliceComputed(seg.computed, from - seg.start, to - seg.start), `_v_min = ${Math.trunc(version)}`)
            }
          }
          if (end > updated) await insertRows(tx, state, version, p.inserts, p.ts, counts, undefined, undefined, Math.max(0, start - updated), end - updated)
        },
      },
    })
    return status
  }

  /**
   * Inserts rows, replacing the rows that already have their primary key. Takes batchUpdate's cascade; any other
   * option is refused by name (upsert(rows, { onError: 'ignore' }) was ignored without a word).
   */
  async upsert(rows: readonly Row[], options: { cascade?: boolean } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('upsert', options, { cascade: V.flag })
    return this.batchUpdate(rows, { ...(options.cascade !== undefined ? { cascade: options.cascade } : {}), ifNotExists: 'insert' })
  }

  // ---------------------------------------------------------------- schema evolution

  /** Adds a stored column. On a table with rows, the type must be nullable ('int?'): old rows get null. */
  async addColumn(name: string, type: string, options: { ifExists?: IfExists } = {}): Promise<UpdateStatus> {
    checkName(name, 'column name')
    refuseUnknownOptions('addColumn', options, { ifExists: V.ifExists })
    const t = parseType(type)
    return this.#schemaChange('add_column', name, options.ifExists, async (tx, state, version) => {
      if (!t.nullable && (await countCurrentRows(tx, state.id)) > 0) {
        throw invalid('INVALID_TYPE', `column '${name}' of type ${formatType(t)} cannot be added to '${state.path}', which has rows; make it nullable ('${formatType(t)}?')`, { column: name })
      }
      const column: ColumnMd = { id: state.md.nextColumnId, name, type: formatType(t), addedIn: version, ...(isMedia(t) ? { cellErrors: true as const } : {}) }
      await addPhysicalColumn(tx, state.id, column)
      return { ...state.md, columns: [...state.md.columns, column], nextColumnId: state.md.nextColumnId + 1 }
    })
  }

  async addColumns(schema: Record<string, string>, options: { ifExists?: IfExists } = {}): Promise<UpdateStatus[]> {
    const out: UpdateStatus[] = []
    for (const [name, type] of Object.entries(schema)) out.push(await this.addColumn(name, type, options))
    return out
  }

  /**
   * Adds a column computed from an expression: existing rows are backfilled now, new rows computed on insert, and
   * the value recomputed when its inputs are updated.
   */
  async addComputedColumn(name: string, expr: ExprLike, options: AddComputedColumnOptions = {}): Promise<UpdateStatus> {
    checkName(name, 'column name')
    refuseUnknownOptions('addComputedColumn', options, { onError: V.onError, ifExists: V.ifExists, stored: V.flag, hidden: V.flag, afterAdd: true, destination: true })
    const onError = options.onError ?? 'abort'
    const stored = options.stored ?? true
    if (typeof stored !== 'boolean') throw invalid('INVALID_ARGUMENT', `addComputedColumn: stored must be true or false, got ${JSON.stringify(options.stored)}`, { column: name })
    if (!stored && options.hidden) throw invalid('INVALID_ARGUMENT', 'an index column must be stored')
    // An unstored column is computed by each read, where a failing row fails the read: there is no cell to keep an
    // error in, so onError: 'ignore' would be silently ignored.
    if (!stored && options.onError === 'ignore') throw invalid('INVALID_ARGUMENT', `addComputedColumn '${name}': onError: 'ignore' needs a stored column (stored: false computes on every read, and a failing row fails that read); store it, or make the expression handle the failing rows`, { column: name })
    const node = ownColumns(toNode(expr), await this.qualifyingPaths())
    const destination = options.destination === undefined ? undefined : checkDestination(options.destination)
    // A scoped token's expression keeps its limits for every later writer and reader (src/media/author-limits.ts).
    const limits = currentColumnAuthor()
    await checkDefinitionLiterals(node, `computed column '${name}'`)
    // The column as it will be added, from a given state (the same in prepare and in the final step: the commit unit
    // re-checks that the schema did not change in between).
    const define = (state: TableState, version: number) => {
      const scope = new ColumnScope(state.md, (c) => `t.${valueColumn(c.id)}`)
      const type = typeOf(node, scope)
      if (isMedia(type)) refuseTextToMedia(node, scope, `computed column '${name}'`)
      if (containsAggregate(node)) throw invalid('INVALID_EXPRESSION', `a computed column cannot aggregate: ${printExpr(node)}`)
      const column: ColumnMd = {
        id: state.md.nextColumnId, name, type: formatType({ ...type, nullable: true }), addedIn: version, computed: { expr: node, onError, ...(stored ? {} : { stored: false as const }), ...(limits ? { limits } : {}) },
        ...(options.hidden ? { hidden: true } : {}),
        // Known before the final step: values computed ahead of it are written to the destination already.
        ...(destination ? { destination } : {}),
      }
      const md: TableMd = { ...state.md, columns: [...state.md.columns, column], nextColumnId: state.md.nextColumnId + 1 }
      return { type, column, md, plan: computedPlans(md).find((p) => p.column.id === column.id) }
    }
    return this.#schemaChange<Backfill | undefined>('add_column', name, options.ifExists, async (tx, state, version) => {
      const def = define(state, version)
      // Unstored: no data column and no backfill; queries compute it (src/query/planner.ts).
      if (!stored || !def.plan) return def.md
      if (destination) await recordDestination(tx, destination, def.type, name)
      const { column, md } = def
      // Values were written by the backfill's steps (on PGlite, before this final step, into a data column no version
      // has yet) or just now in this transaction; a table without rows gets its column here.
      await addPhysicalColumn(tx, state.id, column, { ifNotExists: true })
      return options.afterAdd ? options.afterAdd(tx, md, column, state) : md
    }, async (state, counts) => {
      const def = define(state, state.version + 1)
      if (!stored || !def.plan) return undefined
      const target = { ...state, md: def.md }
      // TypeScript-computed values (UDFs, models, services) are computed here, outside any transaction: a slow UDF
      // does not hold the store, and one that queries this database does not wait for itself.
      if (def.plan.mode === 'ts') {
        const rows = await readCurrentInputs(this.#ctx.db, target, def.plan)
        return { target, column: def.column, computed: await computeInPlace(target, rows, [def.plan], counts, backfilledRows(target, rows)), tids: rows.map((r) => r._tid) }
      }
      return { target, column: def.column, plan: def.plan, tids: await matchingRows(this.#ctx.db, state, undefined) }
    }, {
      rows: {
        count: (b) => b?.tids.length ?? 0,
        // One slice of the backfill: the new data column first (no version's schema has it, so readers never see it),
        // then the values of rows [start, end) in place, found by their row version address.
        write: async (tx, state, _version, b, counts, start, end) => {
          if (!b) return
          if (start === 0) await addPhysicalColumn(tx, state.id, b.column, { ifNotExists: true })
          if (b.computed) await writeComputedValues(tx, b.target, sliceComputed(b.computed, start, end), `_v_max = ${MAX_VERSION}`, b.tids.slice(start, end))
          else counts.computed += await backfillRows(tx, b.target, b.plan!, b.tids.slice(start, end))
        },
      },
      undo: async (tx, state, b) => {
        if (b) await dropPhysicalColumn(tx, state.id, b.column)
      },
    })
  }

  async dropColumn(name: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('dropColumn', options, { ifNotExists: V.ifNotExists })
    this.#writable()
    const existing = this.md.columns.find((c) => c.name === name)
    if (!existing) {
      if (options.ifNotExists === 'ignore') return toStatus(this.version, emptyCounts())
      throw notFound('COLUMN_NOT_FOUND', `'${this.path}' has no column '${name}'`, { column: name })
    }
    return this.#write('drop_column', async () => undefined, async (tx, state) => {
      // Checked again on the locked state: a concurrent drop or rename may have taken it meanwhile.
      const column = state.md.columns.find((c) => c.name === name)
      if (!column) {
        if (options.ifNotExists === 'ignore') return state.md
        throw notFound('COLUMN_NOT_FOUND', `'${state.path}' has no column '${name}'`, { column: name })
      }
      return dropColumnStep(tx, state, state.md, column)
    })
  }

  async renameColumn(oldName: string, newName: string): Promise<UpdateStatus> {
    checkName(newName, 'column name')
    return this.#write('rename_column', async () => undefined, async (_tx, state) => {
      const column = state.md.columns.find((c) => c.name === oldName)
      if (!column) throw notFound('COLUMN_NOT_FOUND', `'${state.path}' has no column '${oldName}'`, { column: oldName })
      if (state.md.columns.some((c) => c.name === newName)) throw alreadyExists('COLUMN_ALREADY_EXISTS', `'${state.path}' already has a column '${newName}'`, { column: newName })
      // Stable ids make this metadata only; computed expressions that name the column are rewritten.
      const columns = state.md.columns.map((c) => {
        const renamed = c.id === column.id ? { ...c, name: newName } : c
        return c.computed ? { ...renamed, computed: { ...c.computed, expr: renameRefs(c.computed.expr, oldName, newName) } } : renamed
      })
      // A view's iterator reads its input from the view's column of that name.
      const view = state.md.view
      const iterator = view?.iterator && (view.iterator.inputColumn ?? view.iterator.input) === oldName ? { ...view.iterator, inputColumn: newName } : undefined
      return { ...state.md, columns, ...(view && iterator ? { view: { ...view, iterator } } : {}) }
    })
  }

  /** Recomputes computed columns (as a new version), for rows matching `where`, or only failed cells. */
  async recomputeColumns(names: string | readonly string[], options: RecomputeOptions = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('recomputeColumns', options, { where: true, errorsOnly: V.flag, cascade: V.flag })
    const list = typeof names === 'string' ? [names] : [...names]
    const whereNode = options.where === undefined ? undefined : ownColumns(toNode(options.where), await this.qualifyingPaths())
    this.#writable()
    return this.#changeRows('recompute', async (state) => {
      for (const n of list) {
        const c = state.md.columns.find((x) => x.name === n)
        if (!c) throw notFound('COLUMN_NOT_FOUND', `'${state.path}' has no column '${n}'`, { column: n })
        if (!c.computed) throw (await this.#carriedComputed(state, c)) ?? invalid('INVALID_ARGUMENT', `'${n}' is not a computed column`, { column: n })
        if (c.computed.stored === false) throw invalid('INVALID_ARGUMENT', `'${n}' is not stored (stored: false): it is computed on every read, so there is nothing to recompute`, { column: n })
      }
      if (whereNode) checkPredicate(state, whereNode)
      const named = computedPlans(state.md).filter((p) => list.includes(p.column.name))
      const cascaded = options.cascade === false ? [] : dependentPlans(state.md, new Set(list))
      const plans = [...named, ...cascaded.filter((p) => !named.some((n) => n.column.id === p.column.id))]
      let where = whereNode
      if (options.errorsOnly) {
        const errs = fnNode('or', named.map((p) => fnNode('is_not_null', [colNode(p.column.name, undefined, 'errortype')])))
        where = where ? fnNode('and', [where, errs]) : errs
      }
      return { where, values: new Map(), recompute: plans }
    })
  }

  /**
   * Adds column `name` through `apply` (and `prepare`, `staged`), in one change: a replace drops the old column (and,
   * with 'replace_force', its dependents) in the same final transaction, so it is one version, and a replace that fails
   * anywhere (validation, a UDF, a view that filters on the column) leaves the table as it was.
   */
  async #schemaChange<P = undefined>(
    kind: VersionKind,
    name: string,
    ifExists: IfExists | undefined,
    apply: (tx: Queryable, state: TableState, version: number, counts: WriteCounts, prepared: P) => Promise<TableMd>,
    prepare?: (state: TableState, counts: WriteCounts) => Promise<P>,
    staged?: Pick<Change<P>, 'rows' | 'undo'>,
  ): Promise<UpdateStatus> {
    this.#writable()
    const mode = ifExists ?? 'error'
    const replaces = mode === 'replace' || mode === 'replace_force'
    if (this.md.columns.some((c) => c.name === name)) {
      if (mode === 'ignore') return toStatus(this.version, emptyCounts())
      if (mode === 'error') throw alreadyExists('COLUMN_ALREADY_EXISTS', `'${this.path}' already has a column '${name}'; pass ifExists: 'ignore' or 'replace'`, { column: name })
    }
    // prepare and the final step see the table as the replace leaves it; the commit unit makes prepare run again
    // when the schema changed in between (a concurrent add or drop of the same name).
    const target = (state: TableState) => (replaces ? withoutReplaced(state, name, mode) : state)
    const { status } = await commitChange<P>(this.#ctx, this.#id, {
      kind,
      ...(prepare ? { prepare: (state: TableState, counts: WriteCounts) => prepare(target(state), counts), readsRows: (p: P) => p !== undefined } : {}),
      ...staged,
      apply: async (tx, state, version, prepared, counts) => {
        // Checked again on the locked state: a concurrent writer (here or in another process) may have added it.
        if (state.md.columns.some((c) => c.name === name)) {
          if (mode === 'ignore') return state.md
          if (!replaces) throw alreadyExists('COLUMN_ALREADY_EXISTS', `'${state.path}' already has a column '${name}'`, { column: name })
          return apply(tx, await dropReplaced(tx, state, name, mode), version, counts, prepared)
        }
        return apply(tx, state, version, counts, prepared)
      },
    })
    return status
  }

  // ---------------------------------------------------------------- embedding indexes (src/index/)

  /** Indexes `column` by embedding: a hidden computed column of vectors plus a pgvector HNSW index. */
  async addEmbeddingIndex(column: string, options: AddEmbeddingIndexOptions = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('addEmbeddingIndex', options, { embed: true, metric: true, m: true, efConstruction: true, efSearch: true, quantization: true, name: true, ifExists: ['error', 'ignore', 'replace'], onError: V.onError, fullText: true })
    // A PostgreSQL server may lack pgvector (PGlite always has it): say what to install instead of a SQL error.
    if (!this.#ctx.db.capabilities.vector) {
      throw new TesseraError('UNAVAILABLE', `cannot index '${this.path}.${column}': the PostgreSQL server has no pgvector extension; install it on the server (Debian/Ubuntu: apt install postgresql-15-pgvector, matching the server's major version) and run CREATE EXTENSION vector in the database (or let Tessera create it on its next start)`, { column, table: this.path })
    }
    return indexes.addEmbeddingIndex(this, column, options, (name, expr, o) => this.addComputedColumn(name, expr, o), this.#alterSchema)
  }

  async dropEmbeddingIndex(name: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('dropEmbeddingIndex', options, { ifNotExists: V.ifNotExists })
    return indexes.dropEmbeddingIndex(this, name, options, this.#alterSchema)
  }

  /**
   * A scalar index over `column`'s current values (b-tree; hash for strings), for filters that pick few rows: a
   * similarity search filtered on the column lists those rows through it instead of reading every row. A new version
   * records it (columns() shows `indexed: true`).
   */
  async addScalarIndex(column: string, options: { ifExists?: 'error' | 'ignore' } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('addScalarIndex', options, { ifExists: ['error', 'ignore'] })
    scalarIndexColumn(this.#writable().md, this.path, column)
    if (options.ifExists === 'ignore' && this.md.columns.find((c) => c.name === column)?.indexed) return toStatus(this.version, emptyCounts())
    return this.#alterSchema('add_column', (tx, state) => setScalarIndex(tx, state.id, state.md, state.path, column, true, options.ifExists ?? 'error'))
  }

  async dropScalarIndex(column: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('dropScalarIndex', options, { ifNotExists: V.ifNotExists })
    scalarIndexColumn(this.#writable().md, this.path, column)
    if (options.ifNotExists === 'ignore' && !this.md.columns.find((c) => c.name === column)?.indexed) return toStatus(this.version, emptyCounts())
    return this.#alterSchema('drop_column', (tx, state) => setScalarIndex(tx, state.id, state.md, state.path, column, false, options.ifNotExists ?? 'error'))
  }

  /** A change of the schema alone (an index over a column of vectors is added or dropped). */
  readonly #alterSchema = (kind: VersionKind, apply: (tx: Queryable, state: TableState, version: number) => Promise<TableMd>): Promise<UpdateStatus> =>
    this.#write(kind, async () => undefined, (tx, state, version) => apply(tx, state, version))

  /**
   * The table's embedding indexes; on the embedded store, each with its native index's status (`native`: building,
   * catching up or ready, and the version it covers), except on a time-travel handle, which searches exactly.
   */
  listIndexes(): IndexInfo[] {
    const manager = this.#pinned ? undefined : indexes.vectorIndexesOf(this.#ctx.db)
    return indexes.listIndexes(this.md, manager && ((idx) => manager.statusOf(this.#id, idx)))
  }

  /** Full-text and vector search over `options.column`, fused by reciprocal rank. */
  hybridSearch(query: string, options: HybridSearchOptions): Promise<ResultSet> {
    return indexes.hybridSearch(this, query, options)
  }

  // ---------------------------------------------------------------- versions

  async history(): Promise<VersionInfo[]> {
    const r = await this.#ctx.db.query<{ version: number; created_at: Date; kind: VersionInfo['kind']; inserted: number; updated: number; deleted: number; errors: number; md: TableMd }>(
      `select version, created_at, kind, inserted, updated, deleted, errors, md from tessera.versions where table_id = $1 order by version desc`,
      [this.#id],
    )
    return r.rows.map((x) => ({
      version: x.version, createdAt: x.created_at, kind: x.kind,
      inserted: Number(x.inserted), updated: Number(x.updated), deleted: Number(x.deleted), errors: Number(x.errors),
      schema: Object.fromEntries(x.md.columns.filter((c) => !c.hidden).map((c) => [c.name, c.type])),
    }))
  }

  /**
   * Undoes the latest version: its rows disappear, the rows it ended come back, its schema change is undone.
   * `expectVersion`: revert only if the latest version is still this one (an import undoing its own batches must
   * not pop a version another writer committed in between); otherwise CONCURRENCY_CONFLICT and nothing changes.
   */
  async revert(options: { expectVersion?: number } = {}): Promise<{ version: number }> {
    const state = this.#writable()
    // A view's version that follows its base (a sync) is undone by reverting the base, which the view mirrors;
    // undone on the view alone, the view would lose rows its base still has. Its own changes (a computed column it
    // added, a rename) are its to revert.
    const base = state.md.view ? await this.#ctx.refresh(state.md.view.baseId).catch(() => undefined) : undefined
    return revertLatest(this.#ctx, this.#id, options, state.md.view ? (kind) => {
      if (kind !== 'sync') return
      throw invalid('READ_ONLY', `'${state.path}' is a view: its latest version follows its base${base ? ` '${base.path}'` : ''}, so revert the base instead (the view follows); a view's own changes, such as a computed column added to it, can be reverted on the view`, { view: state.path, ...(base ? { table: base.path } : {}) })
    } : undefined)
  }

  toString(): string {
    return `Table(${this.path}${this.#pinned ? `:${this.#pinned.version}` : ''})`
  }
}

/**
 * Before an update by key: the rows in groups that set the same columns, and for each group the TypeScript-computed
 * columns its cascade recomputes, computed from the stored rows with the new values applied (outside any
 * transaction, like precomputeUpdate). `segments` say which rows of `existing` each computed slice belongs to.
 */
async function precomputeByKey(
  state: TableState, rows: readonly Row[], current: Map<string, Row>, tsPlans: readonly ComputedPlan[], counts: WriteCounts, inputIndex: (row: Row) => number,
): Promise<{ existing: Row[]; segments: { start: number; end: number; computed: ComputedInPlace }[] }> {
  const existing: Row[] = []
  const segments: { start: number; end: number; computed: ComputedInPlace }[] = []
  for (const group of groupBySetColumns(rows)) {
    const start = existing.length
    existing.push(...group)
    const changed = setColumns(state, group[0]!)
    // The cascade: plans reading a set column, directly or through the columns they read by value.
    const cascade = new Set(dependentPlans(state.md, new Set(changed.map((c) => c.name))).map((p) => p.column.id))
    const plans = tsPlans.filter((p) => cascade.has(p.column.id))
    if (plans.length === 0) continue
    const after = group.map((r) => ({ ...storedRow(state, current, r), ...Object.fromEntries(changed.map((c) => [c.name, r[c.name]])) }))
    segments.push({ start, end: existing.length, computed: await computeInPlace(state, after, plans, counts, batchRows(state, group, inputIndex)) })
  }
  return { existing, segments }
}

/** What an update or recompute changes: the rows matching `where`, the set values, the columns recomputed. */
interface RowsChange {
  readonly where: ExprNode | undefined
  readonly values: Map<ColumnMd, ExprNode>
  readonly recompute: ComputedPlan[]
}

/** A computed column's backfill, prepared outside any transaction and written in slices. */
interface Backfill {
  readonly target: TableState
  readonly column: ColumnMd
  /** SQL-mode: the expression, computed in place for the current rows. */
  readonly plan?: ComputedPlan
  /** The current row versions it writes (aligned with `computed` in TypeScript mode), by address. */
  readonly tids: readonly string[]
  /** TypeScript-mode: the values, computed before any write. */
  readonly computed?: ComputedInPlace
}


/**
 * Undoes the latest version of a table (Table.revert; a view mirroring its base's revert, src/catalog/database.ts):
 * its rows disappear, the rows it ended come back, its schema change is undone. `refuseKind` sees the kind of the
 * version to undo and may refuse it.
 */
export async function revertLatest(ctx: CatalogContext, id: number, options: { expectVersion?: number } = {}, refuseKind?: (kind: string | undefined) => void): Promise<{ version: number }> {
  // On a store that stages writes, the final step only pops the version: readers bounded by the committed version
  // stop seeing its rows and see the rows it ended again at once (src/query/sql.ts visibleAt); the rows themselves
  // are put back in steps after it, under the table's lock.
  const staged = ctx.db.capabilities.stagedWrites === true
  const { committed } = await commitChange(ctx, id, {
    kind: 'revert',
    apply: async (tx, locked) => {
      const n = locked.version
      if (n === 0) throw invalid('INVALID_ARGUMENT', `'${locked.path}' is at version 0 (its creation), which cannot be reverted; drop the table instead`)
      if (options.expectVersion !== undefined && n !== options.expectVersion) {
        throw new ConcurrencyError('CONCURRENCY_CONFLICT', `'${locked.path}' is at version ${n}, not ${options.expectVersion}: another write came after it, so it was not reverted`, { version: n, expected: options.expectVersion })
      }
      refuseKind?.(await latestVersionKind(tx, id))
      const prev = await mdAtVersion(tx, id, locked.path, n - 1)
      await refuseRevertUnderJob(tx, locked, prev)
      await assertRevertable?.(tx, locked, prev)
      if (!staged) await undoVersion(tx, id, n)
      for (const c of locked.md.columns) {
        if (c.addedIn === n && !prev.columns.some((p) => p.id === c.id)) await dropPhysicalColumn(tx, id, c)
      }
      await restoreScalarIndexes(tx, id, locked.md, prev)
      return { pop: true, md: prev }
    },
    // The revert has committed; a drop of the table between two steps of this cleanup leaves nothing to clean.
    ...(staged ? { cleanup: (state: TableState) => runInSteps(ctx, id, async (tx, limit) => ((await holdTableRow(tx, id)) ? undoVersionStep(tx, id, state.version + 1, limit) : 0)) } : {}),
  })
  return { version: committed!.version }
}

/**
 * Hook for snapshots and views (revert must not pass a version a snapshot pins, nor undo a schema a view was created
 * on); set by the views/snapshots module. `prev` is the schema the revert goes back to.
 */
export let assertRevertable: ((tx: Queryable, state: TableState, prev: TableMd) => Promise<void>) | undefined
export function setRevertGuard(fn: (tx: Queryable, state: TableState, prev: TableMd) => Promise<void>): void {
  assertRevertable = fn
}

/**
 * A background job computes its column hidden, added by a version of its own: reverting that version would pull the
 * column from under the job (it failed with Postgres's "column … does not exist"). Cancel the job instead.
 */
async function refuseRevertUnderJob(tx: Queryable, locked: TableState, prev: TableMd): Promise<void> {
  const removed = new Set(locked.md.columns.filter((c) => !prev.columns.some((p) => p.id === c.id)).map((c) => c.id))
  if (removed.size === 0) return
  const job = (await runningJobColumns(tx, locked.id)).find((j) => removed.has(j.columnId))
  if (!job) return
  throw new ConcurrencyError('CONCURRENCY_CONFLICT', `the latest version of '${locked.path}' added the column a running background job computes ('${job.column}'); cancel the job first (db.jobs.cancel, or DELETE /api/v1/jobs/…), which drops its partial column`, { column: job.column })
}

export { refuseUnknownOptions }

/** Media cells become canonical refs (uploads stored, files checked per mediaValidation), outside any transaction. */
function mediaRows(ctx: CatalogContext, state: TableState, rows: Row[]): Promise<Row[]> | Row[] {
  return ctx.media ? validateMediaRows(state.md, state.path, rows, ctx.media) : rows
}

function checkPredicate(state: TableState, where: ExprNode): void {
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const t = typeOf(where, scope)
  if (t.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `where needs a boolean expression, got ${t.kind} from ${printExpr(where)}`)
  // Checked here, or the store refuses the statement in its own words (a 500 over HTTP).
  if (containsAggregate(where)) throw invalid('INVALID_EXPRESSION', `the where of an update, delete or recompute cannot aggregate (it picks each row by itself): ${printExpr(where)}`)
  if (!isSqlExpr(where)) throw invalid('INVALID_EXPRESSION', `the where of an update or delete must run in SQL: ${printExpr(where)}`)
}

/**
 * Inserts of at least this many rows go by COPY where the store takes it (#insertByCopy); smaller ones stay one
 * statement, where a load's own round trips (its _rowid block, the sequence moved at the end) would weigh more.
 */
const DIRECT_INSERT_MIN_ROWS = 2_000

/** Whether preparing an insert's rows is validating them only: no media to check, no column to compute. */
function preparesQuickly(md: TableMd): boolean {
  return md.columns.every((c) => !c.computed && !isMedia(parseType(c.type)))
}

function checkDuplicateKeys(state: TableState, rows: readonly Row[]): void {
  if (state.md.primaryKey.length === 0) return
  // A one-column key of strings or numbers is its own Map key: building a JSON key per row cost ~1 µs a row on bulk
  // inserts (bench/). Validated values of one column share one JS type, so 1 and '1' cannot meet here.
  const single = state.md.primaryKey.length === 1 ? state.md.columns.find((c) => c.id === state.md.primaryKey[0])!.name : undefined
  const seen = new Map<unknown, number>()
  for (let i = 0; i < rows.length; i++) {
    const v = single === undefined ? undefined : rows[i]![single]
    const k = typeof v === 'string' || typeof v === 'number' ? v : keyOf(state, rows[i]!)
    const prev = seen.get(k)
    if (prev !== undefined) throw invalid('CONSTRAINT_VIOLATION', `rows ${prev} and ${i} have the same primary key ${keyOf(state, rows[i]!)} in '${state.path}'`, { row: i })
    seen.set(k, i)
  }
}

function renameRefs(node: ExprNode, from: string, to: string): ExprNode {
  return mapNodes(node, (n) => (isCol(n) && n.col === from ? colNode(to, n.tbl, n.prop) : n))
}


