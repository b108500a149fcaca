import { ConcurrencyError, invalid, TesseraError } from '../../errors.ts'
import { dataTable, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import { translateStoreError } from '../../store/index.ts'
import { isMedia, parseType, toStoreJson } from '../../types/index.ts'
import type { ColumnType } from '../../types/index.ts'
import { commitChange, heldTransaction, stepRows } from '../commit.ts'
import type { ChangeResult } from '../commit.ts'
import type { TableState } from '../state.ts'
import { rowIdSequence } from './layout.ts'
import { binaryField, CellEncodingError, CopyBinaryWriter, fillLeads } from './copy-binary.ts'
import type { BinaryField } from './copy-binary.ts'
import { prepareInsert, withOnErrorMd } from '../insert-prepare.ts'
import type { PreparedInsert } from '../insert-prepare.ts'
import type { OnError, TableMd, UpdateStatus } from '../metadata.ts'
import type { InsertShape, SourceColumn, WriteCounts } from './rows.ts'
import { columnNameMap, emptyCounts, insertShape } from './rows.ts'
import type { CatalogContext } from '../table.ts'
import type { Row } from '../validate-rows.ts'

// The bulk load behind imports: batches of converted rows go into a staging table (COPY on PGlite; a parameterized
// insert on a server store, whose COPY stream cannot report a failure reliably), then one set-based INSERT … SELECT
// moves them into the versioned data table through the one commit unit (commit.ts): ONE table version per load,
// written in short steps under a version no reader sees until the final step. A failure at any point leaves the
// table as it was; a killed process leaves a temporary table that dies with its session (PGlite) and staged rows
// that the next open removes (repairUncommittedWrites).
//
// The staging table has the columns of the insert's row source (rows.ts insertShape: input values, media cell
// errors, TypeScript-computed values) plus _seq (the row's place in the load, dense from 0: commit steps are _seq
// ranges) and _line (the row's place in the input, for error messages).
//
// Direct loads (PGlite, no SQL-computed column): moving staged rows into the versioned layout cost about twice the
// COPY itself (BENCHMARKS.md, issue 22), so there each batch is COPYed straight into the data table under the load's
// version, which the commit unit reserves for a streamed write (commit.ts StreamedRows) and records only at the end:
// nothing is visible before, a failed batch's COPY leaves nothing of itself (the caller narrows it down by the line
// COPY names and stages the rest again), and a failed or discarded load is undone like any staged write. _rowid comes
// as one block of the table's sequence per batch. Other writes of the table wait for the load to end.

let nextStaging = 0

/** A staged row the store refused or that collides with another: its place in the input and why. */
export interface StagedProblem {
  readonly line: number
  readonly column?: string
  readonly error: string
  readonly code: 'INVALID_ROW' | 'CONSTRAINT_VIOLATION'
}

/** What a direct load's batches write under: the version the commit unit reserved, and the commit's counts. */
interface DirectTarget {
  readonly state: TableState
  readonly version: number
  readonly counts: WriteCounts
  /** The first of n new _rowid values. */
  readonly rowIds: (n: number) => number
}

/** A direct load in progress: the commit unit's streamed write, waiting for the input to end. */
interface DirectLoad {
  /** Resolves once the commit unit holds the table's lock and reserved the version. */
  readonly target: Promise<DirectTarget>
  /** The commit's outcome. */
  readonly result: Promise<ChangeResult>
  /** Ends the streamed write: undefined commits, an error undoes it. */
  readonly end: (error?: unknown) => void
}

export class BulkLoad {
  readonly #ctx: CatalogContext
  readonly #tableId: number
  readonly #onError: OnError
  readonly #md: TableMd
  readonly #shape: InsertShape
  readonly #staging: string
  readonly #counts: WriteCounts = emptyCounts()
  #direct: DirectLoad | undefined
  /** A direct load's writer per source column, when every one has a binary form (COPY's binary format). */
  #binary: readonly BinaryField[] | undefined
  /** Per source column, the table column whose plain value it is, when a row can come as an array of cells (prepareCells). */
  #cellColumns: readonly { readonly name: string; readonly type: ColumnType }[] | undefined
  #next = 0
  #closed = false

  private constructor(ctx: CatalogContext, tableId: number, onError: OnError, md: TableMd, staging: string) {
    this.#ctx = ctx
    this.#tableId = tableId
    this.#onError = onError
    this.#md = md
    // The version is a placeholder here: only the source columns are used (the commit builds its own statement).
    this.#shape = insertShape(withOnErrorMd(md, onError), 0, new ParamList())
    this.#staging = staging
  }

  static async open(ctx: CatalogContext, tableId: number, onError: OnError): Promise<BulkLoad> {
    const state = ctx.state(tableId)
    const db = ctx.db
    if (db.copyFrom && db.capabilities.stagedWrites === true) {
      const load = new BulkLoad(ctx, tableId, onError, state.md, '')
      // COPY cannot compute: a SQL-computed column needs the staged INSERT … SELECT.
      if (load.#shape.sqlPlans.length === 0) {
        // Binary rows where every column has a binary writer (and PGlite takes them: its transactions copy binary).
        const fields = load.#shape.source.map((c) => binaryField(c.pgType))
        if (db.kind === 'pglite' && fields.every((f) => f !== undefined)) {
          load.#binary = fields as BinaryField[]
          load.#cellColumns = cellColumnsOf(state.md, load.#shape.source)
        }
        load.#direct = load.#startDirect()
        return load
      }
    }
    // PGlite is one session: a temporary table is private to it and vanishes with it. A server store pools
    // connections, so the table must be a real one (unlogged: no WAL for rows that are copied once and dropped).
    const name = `import_${tableId}_${process.pid}_${nextStaging++}_${Math.random().toString(36).slice(2, 8)}`
    const staging = db.kind === 'pglite' ? quoteIdent(name) : `tessera_data.${quoteIdent(name)}`
    const load = new BulkLoad(ctx, tableId, onError, state.md, staging)
    const cols = load.#shape.source.map((c) => `${c.name} ${c.pgType}`)
    await db.exec(`create ${db.kind === 'pglite' ? 'temporary' : 'unlogged'} table ${staging} (_seq bigint not null, _line bigint not null${cols.map((c) => `, ${c}`).join('')})`)
    // Commit steps read _seq ranges: without an index each step would scan the whole staging table.
    await db.exec(`create index on ${staging} (_seq)`)
    return load
  }

  /**
   * A direct load for a library insert (Table.insert of many rows): undefined unless the store COPYs straight into
   * the data table (PGlite, no SQL-computed column). The caller has prepared the rows already, for the table's
   * metadata `preparedWith`; the load's commit refuses them if the columns changed since (ConcurrencyError).
   * `rows`: how many the insert writes, so that their _rowid block is taken in the load's first statement.
   */
  static openDirect(ctx: CatalogContext, tableId: number, onError: OnError, preparedWith: TableMd, rows: number): BulkLoad | undefined {
    const fields = BulkLoad.#directFields(ctx, preparedWith, onError)
    if (!fields) return undefined
    // The shape the rows were prepared for: the commit refuses the load if the table's columns differ by then.
    const load = new BulkLoad(ctx, tableId, onError, preparedWith, '')
    if (fields.binary) load.#binary = fields.binary
    load.#direct = load.#startDirect(Math.max(1, rows))
    return load
  }

  /** Whether openDirect would give a load for the table as it is now (asked before preparing rows for one). */
  static loadsDirect(ctx: CatalogContext, tableId: number, onError: OnError): boolean {
    return BulkLoad.#directFields(ctx, ctx.state(tableId).md, onError) !== undefined
  }

  /**
   * How an insert's rows would go by COPY: in the binary format where every column has a writer, else as CSV text
   * unless a column is an array (vectors: insertRows' own binary path beats COPY's text arrays); undefined where they
   * cannot (no COPY, a SQL-computed column).
   */
  static #directFields(ctx: CatalogContext, md: TableMd, onError: OnError): { binary?: BinaryField[] } | undefined {
    const db = ctx.db
    if (!db.copyFrom || db.capabilities.stagedWrites !== true || db.kind !== 'pglite') return undefined
    const shape = insertShape(withOnErrorMd(md, onError), 0, new ParamList())
    if (shape.sqlPlans.length > 0) return undefined
    const fields = shape.source.map((c) => binaryField(c.pgType))
    if (fields.every((f) => f !== undefined)) return { binary: fields as BinaryField[] }
    return shape.source.some((c) => c.pgType.endsWith('[]')) ? undefined : {}
  }

  /**
   * Writes rows an insert prepared (validated, media checked, TypeScript columns computed) through a direct load, in
   * COPYs sized to about a commit step's store time each (commit.ts STEP_TARGET_MS), so reads interleave as they do
   * with a staged insert. `counts`: what preparing them counted (computed cells, cell errors). A row-level failure
   * throws with details.row = the row's index in `prepared.valid`.
   */
  async addPrepared(prepared: PreparedInsert, counts: WriteCounts): Promise<void> {
    this.#assertOpen()
    const direct = this.#direct
    if (!direct) throw new Error('addPrepared needs a direct load (BulkLoad.openDirect)')
    const cells = sourceCells(this.#md, this.#shape.source, prepared)
    const raw = this.#binary ? sourceCells(this.#md, this.#shape.source, prepared, false) : cells
    const total = prepared.valid.length
    /** The COPY of up to `size` rows from `from`, encoded (a value without a binary form throws, numbered from 0). */
    const encode = (from: number, size: number): { from: number; batch: PreparedBatch } => {
      // A remainder under a quarter of a step goes with this one: its own COPY would cost a round trip for little.
      const n = total - from - size < size / 4 ? total - from : size
      const shifted: Cells = (i, out) => cells(from + i, out)
      const own = from === 0 ? counts : emptyCounts()
      try {
        const batch: PreparedBatch = this.#binary
          ? { n, counts: own, cells: shifted, binary: this.#binaryRows(n, (i, out) => raw(from + i, out)) }
          : { n, counts: own, cells: shifted, csv: csvFields(n, this.#shape.source, shifted) }
        return { from, batch }
      } catch (e) {
        throw withRowOffset(e, from)
      }
    }
    // The store copies one batch while this thread encodes the next: encoding had waited for each COPY's answer and
    // the store for each encoding (~2 µs a row; BENCHMARKS.md, issue 22 ins10k). The next batch is sized from the
    // last COPY answered, so steps lag one behind the measurement. Failures surface in row order: a COPY's before an
    // encoding failure of a later batch.
    let size = Math.min(FIRST_DIRECT_ROWS, total)
    for (let current: ReturnType<typeof encode> | undefined = encode(0, size); current;) {
      const { from, batch } = current
      const copied = this.#addDirect(direct, batch).then((ms) => ({ ms }), (e: unknown) => ({ error: withRowOffset(e, from) }))
      let next: ReturnType<typeof encode> | undefined
      let refused: { error: unknown } | undefined
      if (from + batch.n < total) {
        // Encoding is synchronous: one turn of the event loop first lets the COPY's message go out (it waits only for
        // promises: the load's start, the store's scheduler).
        await new Promise<void>((resolve) => setImmediate(resolve))
        try {
          next = encode(from + batch.n, size)
        } catch (e) {
          refused = { error: e }
        }
      }
      const done = await copied
      if ('error' in done) throw done.error
      if (refused) throw refused.error
      // Never below the first step: on a loaded machine a COPY's time grows with the load, not with the store's work,
      // and smaller COPYs only added round trips that each cost as much again (issue 22, branch ins10k).
      size = Math.max(FIRST_DIRECT_ROWS, stepRows(done.ms / batch.n, MAX_DIRECT_ROWS))
      current = next
    }
  }

  /**
   * The names of the table's columns in the order prepareCells() takes a row's cells, when this load can take rows
   * as cell arrays: a direct load in COPY's binary format where every column COPYed is an input column's plain value
   * (no media to check, no TypeScript-computed column, no cell-error columns). Undefined otherwise: rows go through
   * prepare().
   */
  get cellColumns(): readonly string[] | undefined {
    return this.#cellColumns?.map((c) => c.name)
  }

  /**
   * A batch of rows given as cell arrays in cellColumns() order, each cell a value as validated for insert() (null
   * for none), or a timestamp as its milliseconds since the epoch: written straight into COPY's binary format, with no
   * row object keyed by name and no Date per timestamp (an import's conversion, BENCHMARKS.md issue 22 imp2). A value
   * without a binary form fails its row, as in prepare().
   */
  async prepareCells(rows: readonly (readonly unknown[])[]): Promise<PreparedBatch> {
    this.#assertOpen()
    const columns = this.#cellColumns
    if (!columns) throw new Error('prepareCells needs a load that takes cells (cellColumns)')
    const n = rows.length
    const binary = this.#binaryRows(n, (i, out) => {
      const r = rows[i]!
      for (let k = 0; k < out.length; k++) out[k] = r[k]
    })
    // The stored form of row i's cells, for a failure's look-up of its key (#directRowError): a timestamp as text.
    const cells: Cells = (i, out) => {
      const r = rows[i]!
      for (let k = 0; k < out.length; k++) {
        const v = r[k]
        const type = columns[k]!.type
        out[k] = toStoreJson(type, type.kind === 'timestamp' && typeof v === 'number' ? new Date(v) : v)
      }
    }
    return { n, counts: emptyCounts(), cells, binary }
  }

  /** Stages rows given as cell arrays (`ready`: the same rows' prepareCells(), started earlier); failures as add()'s. */
  async addCells(rows: readonly (readonly unknown[])[], ready?: Promise<PreparedBatch>): Promise<void> {
    this.#assertOpen()
    const batch = await (ready ?? this.prepareCells(rows))
    await this.#addDirect(this.#direct!, batch)
  }

  /** Rows staged so far. */
  get staged(): number {
    return this.#next
  }

  /**
   * Checks media, computes TypeScript columns and encodes validated rows, outside any transaction: an import prepares
   * its next batch while the store still copies the one before (the worker had idled through this, BENCHMARKS.md
   * issue 22 bulk). A row-level failure throws as add() does.
   */
  async prepare(rows: Row[]): Promise<PreparedBatch> {
    this.#assertOpen()
    const state = { ...this.#ctx.state(this.#tableId), md: this.#md }
    const counts = emptyCounts()
    const prepared = await prepareInsert(this.#ctx.media, state, rows, this.#onError, counts)
    const cells = sourceCells(this.#md, this.#shape.source, prepared)
    if (this.#binary) return { n: rows.length, counts, cells, binary: this.#binaryRows(rows.length, sourceCells(this.#md, this.#shape.source, prepared, false)) }
    return { n: rows.length, counts, cells, ...(this.#ctx.db.copyFrom ? { csv: csvFields(rows.length, this.#shape.source, cells) } : {}) }
  }

  /**
   * A direct batch in COPY's binary format: per row a placeholder _rowid and _v_min (filled in by #addDirect, once the
   * version and the _rowid block are known), then the source columns. A value without a binary form fails its row.
   */
  #binaryRows(n: number, cells: Cells): BinaryBatch {
    const writers = this.#binary!
    const w = new CopyBinaryWriter(n * 64)
    const at = new Int32Array(n)
    const out: unknown[] = new Array(writers.length)
    const fields = 2 + writers.length
    for (let i = 0; i < n; i++) {
      cells(i, out)
      w.row(fields)
      at[i] = w.length
      w.int64(0)
      w.int32(0)
      for (let k = 0; k < writers.length; k++) {
        const v = out[k]
        if (v === null || v === undefined) {
          w.null()
          continue
        }
        try {
          writers[k]!(w, v)
        } catch (e) {
          if (!(e instanceof CellEncodingError)) throw e
          const column = columnNameMap(this.#md).get(this.#shape.source[k]!.name.replace(/_e[tm]$/, ''))
          throw invalid('INVALID_ROW', e.message, { row: i, ...(column ? { column } : {}) })
        }
      }
    }
    return { payload: w.finish(), leads: at }
  }

  /**
   * Checks media and computes TypeScript columns for validated rows (outside any transaction), then stages them
   * (`ready`: the same rows' prepare(), started earlier).
   * A row-level failure throws a TesseraError whose details.row is the row's index in `rows`; nothing of the batch
   * is staged then.
   */
  async add(rows: Row[], lines: readonly number[], ready?: Promise<PreparedBatch>): Promise<void> {
    this.#assertOpen()
    const batch = await (ready ?? this.prepare(rows))
    if (this.#direct) {
      await this.#addDirect(this.#direct, batch)
      return
    }
    const first = this.#next
    const db = this.#ctx.db
    const columns = `${this.#staging} (_seq, _line, ${this.#shape.source.map((c) => c.name).join(', ')})`
    const counts = batch.counts
    try {
      if (db.copyFrom) {
        await db.copyFrom(columns, csvLines(batch.csv!, (i) => `${first + i},${lines[i]}`))
      } else {
        const record = [`_seq bigint`, `_line bigint`, ...this.#shape.source.map((c) => `${c.name} ${c.pgType}`)]
        await db.query(`insert into ${columns} select * from jsonb_to_recordset($1::jsonb) as x(${record.join(', ')})`, [jsonBatch(rows.length, first, lines, this.#shape.source, batch.cells)])
      }
    } catch (e) {
      throw this.#rowError(e)
    }
    this.#next = first + rows.length
    addCounts(this.#counts, counts)
  }

  /**
   * The commit unit's streamed write: it holds the table's lock and the next version from the first batch to the end
   * of the input (commit or discard), and records the version once the input ended without a failure. `reserve`:
   * the rows known to come (an insert's), whose _rowid block is taken at the start; an import knows none.
   */
  #startDirect(reserve = 1): DirectLoad {
    let ready!: (t: DirectTarget) => void
    let notReady!: (e: unknown) => void
    const target = new Promise<DirectTarget>((resolve, reject) => ((ready = resolve), (notReady = reject)))
    let end!: (error?: unknown) => void
    const ended = new Promise<void>((resolve, reject) => (end = (error) => (error === undefined ? resolve() : reject(error))))
    // Awaited only by the streamed write: a load that ends before it (a batch refused while it was prepared, a commit
    // that failed before it started) must not leave it unhandled.
    ended.catch(() => undefined)
    const result = commitChange(this.#ctx, this.#tableId, {
      kind: 'insert',
      prepare: async (state) => this.#assertSameShape(state),
      streamed: {
        write: async (state, version, _p, counts) => {
          // _rowid values are numbered here, from one block of the sequence taken at the start (nextval() and the
          // sequence moved past the rows known to come, in one statement), and the sequence is moved past the last
          // one at the end if more came (an import): a nextval() per row cost ~0.4x of a plain COPY (BENCHMARKS.md,
          // issue 22 bulk), and a round trip per batch waited for the import's own parsing on this thread. The
          // table's lock keeps every other write of the table (the only other users of its sequence) out until then.
          // An insert thus moves the sequence once, not twice (issue 22, branch ins10k); a failed one leaves a gap,
          // as nextval() does.
          const seq = rowIdSequence(state.id)
          const last = (await this.#ctx.db.query<{ last: number }>(`select setval(${seq}, nextval(${seq}) + $1::bigint - 1)::float8 as last`, [reserve])).rows[0]!.last
          let next = last - reserve + 1
          ready({ state, version, counts, rowIds: (n) => ((next += n), next - n) })
          await ended
          if (next > last + 1) await this.#ctx.db.query(`select setval(${seq}, $1::bigint)`, [next - 1])
        },
      },
    })
    // A commit that fails before its streamed write starts (a changed schema) fails every batch waiting for it.
    result.catch(notReady)
    target.catch(() => undefined)
    return { target, result, end }
  }

  /**
   * One batch COPYed into the data table under the load's version, with a block of new _rowid values. Returns the
   * store time the COPY held (its turn to its answer): neither the load's start, waited for before, nor the COPY's
   * wait for its turn behind reads (under a steady read load that wait, counted as time per row, shrank COPYs to
   * the floor, each paying the wait again; commit.ts heldTransaction).
   */
  async #addDirect(direct: DirectLoad, batch: PreparedBatch): Promise<number> {
    const { n, cells, counts: batchCounts } = batch
    const { state, version, counts, rowIds } = await direct.target
    const db = this.#ctx.db
    const first = rowIds(n)
    const target = `${dataTable(state.id)} (_rowid, _v_min, ${this.#shape.source.map((c) => c.name).join(', ')})`
    const began = performance.now()
    // Reported by a store whose COPY waits for a turn (PGlite's scheduler); elsewhere the wall time is the store's.
    let heldMs: number | undefined
    const onHeld = (ms: number) => void (heldMs = ms)
    try {
      if (batch.binary) {
        fillLeads(batch.binary.payload, batch.binary.leads, first, version)
        // One statement, atomic by itself: one message to the store where it takes one outside a transaction (a
        // transaction around it cost BEGIN and COMMIT as two more).
        const payload = batch.binary.payload
        if (db.copyBinaryFrom) await db.copyBinaryFrom(target, payload, { onHeld })
        else heldMs = (await heldTransaction(db, (tx) => tx.copyBinaryFrom!(target, payload), { lockKey: state.id })).heldMs
      } else await db.copyFrom!(target, csvLines(batch.csv!, (i) => `${first + i},${version}`), { onHeld })
    } catch (e) {
      throw await this.#directRowError(e, state, cells)
    }
    this.#next += n
    counts.inserted += n
    addCounts(counts, batchCounts)
    return heldMs ?? performance.now() - began
  }

  /**
   * A direct batch's failure as a row-level error. A key that a current row of the table has, or an earlier row of
   * the input (written by an earlier batch, or earlier in this one, whose COPY was undone with it): named as the
   * staged path's duplicateKeys() names it; anything else as COPY reports it.
   */
  async #directRowError(e: unknown, state: TableState, cells: Cells): Promise<unknown> {
    const err = e as { code?: unknown; detail?: unknown; where?: unknown }
    const m = typeof err.where === 'string' ? /line (\d+)/.exec(err.where) : null
    if (err.code !== '23505' || !m || this.#md.primaryKey.length === 0) return this.#rowError(e)
    const row = Number(m[1]) - 1
    const out: unknown[] = new Array(this.#shape.source.length)
    cells(row, out)
    const params = new ParamList()
    const match = this.#md.primaryKey.map((id) => {
      const k = this.#shape.source.findIndex((c) => c.name === valueColumn(id))
      return `d.${valueColumn(id)} = ${params.param(out[k])}::${this.#shape.source[k]!.pgType}`
    })
    const r = await this.#ctx.db.query<{ existing: boolean }>(
      `select exists (select 1 from ${dataTable(state.id)} d where ${match.join(' and ')} and d._v_max = ${MAX_VERSION} and d._v_min <= ${params.param(state.version)}::integer) as existing`, params.values)
    const names = this.#md.primaryKey.map((id) => this.#md.columns.find((c) => c.id === id)!.name)
    const key = /=\((.*), \d+\) already exists/.exec(typeof err.detail === 'string' ? err.detail : '')?.[1] ?? ''
    const why = r.rows[0]?.existing ? `'${state.path}' already has a row with this key` : 'an earlier row of the input has this key'
    return invalid('CONSTRAINT_VIOLATION', `duplicate primary key (${names.join(', ')})=(${key}): ${why}`, { row })
  }

  #assertSameShape(state: TableState): void {
    // The staging table has the columns of the schema it was opened with: the insert must still have that shape.
    const now = insertShape(withOnErrorMd(state.md, this.#onError), 0, new ParamList())
    if (JSON.stringify([now.source, now.target, now.select]) !== JSON.stringify([this.#shape.source, this.#shape.target, this.#shape.select])) {
      throw new ConcurrencyError('CONCURRENCY_CONFLICT', `the columns of '${state.path}' changed during the import`, { table: state.path })
    }
  }

  /** Rows whose primary key another staged row (earlier in the input) or a current row of the table already has. */
  async duplicateKeys(limit = 1000): Promise<StagedProblem[]> {
    this.#assertOpen()
    // A direct load names duplicates per batch, as COPY meets them.
    if (this.#direct) return []
    const keys = this.#md.primaryKey.map((id) => valueColumn(id))
    if (keys.length === 0) return []
    const names = this.#md.primaryKey.map((id) => this.#md.columns.find((c) => c.id === id)!.name)
    const keyText = keys.map((k) => `s.${k}::text`).join(` || ', ' || `)
    const matches = (alias: string) => keys.map((k) => `${alias}.${k} = s.${k}`).join(' and ')
    // A window over the key finds repeats inside the input in one sort; the key index finds existing rows.
    const r = await this.#ctx.db.query<{ line: number; key: string; existing: boolean }>(
      `select line, key, existing from (select s._seq, s._line::float8 as line, ${keyText} as key,
         row_number() over (partition by ${keys.map((k) => `s.${k}`).join(', ')} order by s._seq) as n,
         exists (select 1 from ${dataTable(this.#tableId)} d where ${matches('d')} and d._v_max = ${MAX_VERSION}) as existing
       from ${this.#staging} s) z where n > 1 or existing order by _seq limit $1`, [limit])
    return r.rows.map((x) => ({
      line: Number(x.line),
      code: 'CONSTRAINT_VIOLATION' as const,
      error: `duplicate primary key (${names.join(', ')})=(${x.key}): ${x.existing ? `'${this.#ctx.state(this.#tableId).path}' already has a row with this key` : 'an earlier row of the input has this key'}`,
    }))
  }

  /**
   * The input place of the first staged row a SQL-computed column fails on (a commit step failed with it), found by
   * halving _seq ranges with a query that evaluates the insert's select list without writing; undefined if none.
   */
  async firstFailingLine(): Promise<number | undefined> {
    this.#assertOpen()
    if (this.#direct) return undefined
    const params = new ParamList()
    const shape = insertShape(withOnErrorMd(this.#md, this.#onError), 0, params)
    if (shape.sqlPlans.length === 0) return undefined
    const a = `$${params.values.length + 1}::bigint`
    const b = `$${params.values.length + 2}::bigint`
    const sql = `select count(row(${shape.select.join(', ')})) as n from ${this.#staging} as x where x._seq >= ${a} and x._seq < ${b}`
    const fails = (lo: number, hi: number) => this.#ctx.db.query(sql, [...params.values, lo, hi]).then(() => false, () => true)
    let lo = 0
    let hi = this.#next
    if (!(await fails(lo, hi))) return undefined
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (await fails(lo, mid)) hi = mid
      else lo = mid
    }
    const r = await this.#ctx.db.query<{ line: number }>(`select _line::float8 as line from ${this.#staging} where _seq = $1`, [lo])
    return r.rows[0] ? Number(r.rows[0].line) : undefined
  }

  /** Leaves the rows of these input places out of the load (skip mode). */
  async remove(lines: readonly number[]): Promise<void> {
    this.#assertOpen()
    if (this.#direct) return
    if (lines.length > 0) await this.#ctx.db.query(`delete from ${this.#staging} where _line = any($1::bigint[])`, [lines])
  }

  /**
   * Inserts every staged row as ONE new version through the commit unit, in file order, and drops the staging
   * table. Computed columns in SQL are computed by the insert itself; views and indexes follow as for any insert.
   */
  async commit(): Promise<UpdateStatus> {
    this.#assertOpen()
    if (this.#direct) {
      this.#closed = true
      this.#direct.end()
      return (await this.#direct.result).status
    }
    const total = this.#next
    const md = withOnErrorMd(this.#md, this.#onError)
    const { status } = await commitChange(this.#ctx, this.#tableId, {
      kind: 'insert',
      prepare: async (state, counts) => {
        this.#assertSameShape(state)
        addCounts(counts, this.#counts)
      },
      rows: {
        count: () => total,
        write: async (tx, state, version, _p, counts, start, end) => {
          const params = new ParamList()
          const shape = insertShape(md, version, params)
          const r = await tx.query(
            `insert into ${dataTable(state.id)} (${shape.target.join(', ')}) select ${shape.select.join(', ')} from ${this.#staging} as x where x._seq >= ${params.param(start)}::bigint and x._seq < ${params.param(end)}::bigint order by x._seq`,
            params.values)
          counts.inserted += r.affectedRows
          counts.computed += r.affectedRows * shape.sqlPlans.length
        },
      },
    })
    await this.discard()
    return status
  }

  /** Drops the staging table; the table is unchanged unless commit() succeeded. Safe to call twice. */
  async discard(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#direct) {
      // The commit unit undoes what the batches wrote under its version, then lets go of the table.
      this.#direct.end(new Error('the bulk load was discarded'))
      await this.#direct.result.catch(() => undefined)
      return
    }
    await this.#ctx.db.exec(`drop table if exists ${this.#staging}`).catch(() => undefined)
  }

  #assertOpen(): void {
    if (this.#closed) throw invalid('INVALID_ARGUMENT', 'this bulk load was already committed or discarded')
  }

  /**
   * A staging failure as a row-level error: COPY names the line of its payload (one row per line) and the column;
   * the parameterized form names neither, and the caller narrows the batch down.
   */
  #rowError(e: unknown): unknown {
    const state = this.#ctx.state(this.#tableId)
    const t = translateStoreError(e, { table: state.path, columnNames: columnNameMap(this.#md) })
    const where = typeof (e as { where?: unknown })?.where === 'string' ? (e as { where: string }).where : ''
    const m = /line (\d+)(?:, column (\w+))?/.exec(where)
    if (!m || !(t instanceof Error)) return t
    const column = m[2] ? columnNameMap(this.#md).get(m[2].replace(/_e[tm]$/, '')) : undefined
    const message = (t.message || String(e)).replace(/ in '[^']*'/, '')
    return invalid('INVALID_ROW', message, { row: Number(m[1]) - 1, ...(column ? { column } : {}) })
  }
}

/** A direct insert's first COPY; later ones are sized from the store time a row took (commit.ts stepRows). */
const FIRST_DIRECT_ROWS = 1_000
/** COPY costs a fraction of a jsonb insert per row, so its steps hold more rows than the staged insert's 5,000; the
 * payload is encoded on the serving thread, so not too many more. */
const MAX_DIRECT_ROWS = 10_000

/** A row-level error of one COPY, renumbered from the COPY's rows to the insert's. */
function withRowOffset(e: unknown, offset: number): unknown {
  if (!(e instanceof TesseraError) || typeof e.details?.row !== 'number' || offset === 0) return e
  return new TesseraError(e.code, e.message, { ...e.details, row: e.details.row + offset }, { cause: e })
}

function addCounts(into: WriteCounts, from: WriteCounts): void {
  into.computed += from.computed
  into.excs += from.excs
  for (const c of from.colsWithExcs) into.colsWithExcs.add(c)
}

type Cells = (i: number, out: unknown[]) => void

/** Per source column its table column, when each is an input column's plain value (BulkLoad.cellColumns). */
function cellColumnsOf(md: TableMd, source: readonly SourceColumn[]): { name: string; type: ColumnType }[] | undefined {
  const byName = new Map(md.columns.map((c) => [valueColumn(c.id), c]))
  const out: { name: string; type: ColumnType }[] = []
  for (const s of source) {
    const c = byName.get(s.name)
    if (!c || c.computed) return undefined
    const type = parseType(c.type)
    if (isMedia(type)) return undefined
    out.push({ name: c.name, type })
  }
  return out
}

/** A batch ready to be added (BulkLoad.prepare). */
export interface PreparedBatch {
  readonly n: number
  readonly counts: WriteCounts
  readonly cells: Cells
  /** Per row, its source fields in COPY's CSV format (where the store takes COPY and the rows go in as text). */
  readonly csv?: readonly string[]
  /** The rows in COPY's binary format (a direct load whose columns all have one). */
  readonly binary?: BinaryBatch
}

interface BinaryBatch {
  readonly payload: Uint8Array
  /** Per row, where its _rowid field starts (the _v_min field follows). */
  readonly leads: Int32Array
}

/**
 * The values of row i in source-column order, as toStoreJson gives them (the jsonb form's values), or as validated
 * (`storeJson` false: the binary writers take Dates and bytes as they are).
 */
function sourceCells(md: TableMd, source: readonly SourceColumn[], p: { valid: Row[]; ts: Map<number, { values: unknown[]; errors: ({ errortype: string; errormsg: string } | null)[] }>; mediaErrors?: readonly (Readonly<Record<string, { errortype: string; errormsg: string }>> | undefined)[] }, storeJson = true): Cells {
  const byName = new Map(md.columns.map((c) => [valueColumn(c.id), c]))
  const readers = source.map((s) => {
    const m = /^c(\d+)(_et|_em)?$/.exec(s.name)!
    const column = byName.get(`c${m[1]}`)!
    const type = parseType(column.type)
    const part = m[2]
    if (column.computed) {
      const r = p.ts.get(column.id)!
      if (!part) return storeJson ? (i: number) => toStoreJson(type, r.values[i]) : (i: number) => r.values[i] ?? null
      return (i: number) => (part === '_et' ? r.errors[i]?.errortype : r.errors[i]?.errormsg) ?? null
    }
    if (part) return (i: number) => { const e = p.mediaErrors?.[i]?.[column.name]; return (part === '_et' ? e?.errortype : e?.errormsg) ?? null }
    const name = column.name
    return storeJson ? (i: number) => toStoreJson(type, p.valid[i]![name]) : (i: number) => p.valid[i]![name] ?? null
  })
  return (i, out) => {
    for (let k = 0; k < readers.length; k++) out[k] = readers[k]!(i)
  }
}

function jsonBatch(n: number, first: number, lines: readonly number[], source: readonly SourceColumn[], cells: Cells): string {
  const docs = new Array<Record<string, unknown>>(n)
  const out: unknown[] = new Array(source.length)
  for (let i = 0; i < n; i++) {
    cells(i, out)
    const doc: Record<string, unknown> = { _seq: first + i, _line: lines[i] }
    for (let k = 0; k < source.length; k++) if (out[k] !== null && out[k] !== undefined) doc[source[k]!.name] = out[k]
    docs[i] = doc
  }
  return JSON.stringify(docs)
}

/**
 * Per row, its source columns in COPY's CSV format, each field with the comma before it: NULL is an unquoted empty
 * field, text is always quoted (so '' stays '').
 */
function csvFields(n: number, source: readonly SourceColumn[], cells: Cells): string[] {
  const encoders = source.map((c) => csvEncoder(c.pgType))
  const out: unknown[] = new Array(source.length)
  const parts: string[] = new Array(n)
  for (let i = 0; i < n; i++) {
    cells(i, out)
    let line = ''
    for (let k = 0; k < out.length; k++) {
      const v = out[k]
      line += v === null || v === undefined ? ',' : ',' + encoders[k]!(v)
    }
    parts[i] = line
  }
  return parts
}

/** The COPY payload: per row `lead(i)` (the staging table's _seq and _line; the data table's _rowid and _v_min), then its fields. */
function csvLines(fields: readonly string[], lead: (i: number) => string): string {
  let out = ''
  for (let i = 0; i < fields.length; i++) out += lead(i) + fields[i] + '\n'
  return out
}

const quote = (s: string): string => `"${s.includes('"') ? s.replaceAll('"', '""') : s}"`

function csvEncoder(pgType: string): (v: unknown) => string {
  switch (pgType) {
    case 'bigint': case 'double precision': return (v) => String(v)
    case 'boolean': return (v) => (v ? 't' : 'f')
    case 'bytea': return (v) => String(v) // '\x…' hex: nothing to quote
    case 'jsonb': return (v) => quote(JSON.stringify(v))
    default:
      if (pgType.endsWith('[]')) return (v) => quote(arrayLiteral(v))
      return (v) => quote(String(v))
  }
}

/** A Postgres array literal of numbers or booleans (nested for multi-dimensional arrays). */
function arrayLiteral(v: unknown): string {
  if (!Array.isArray(v)) return String(v)
  return `{${v.map((e) => (Array.isArray(e) ? arrayLiteral(e) : e === null ? 'NULL' : typeof e === 'boolean' ? (e ? 't' : 'f') : String(e))).join(',')}}`
}
