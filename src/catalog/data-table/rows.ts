import { TesseraError } from '../../errors.ts'
import { ColumnScope, computedPlans, readByValue, readErrorKeys } from '../computed.ts'
import type { ComputedPlan } from '../computed.ts'
import { blockRangeSql, castFailure, compileExpr, namedExprFailure, dataTable, errorMsgColumn, errorTypeColumn, evalCells, isCol, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import type { CellError, ExprNode } from '../../query/index.ts'
import { Pace } from '../../index/index.ts'
import { translateStoreError } from '../../store/index.ts'
import type { Queryable } from '../../store/index.ts'
import { parseType, pgType, toStoreJson } from '../../types/index.ts'
import type { ColumnMd, TableMd } from '../metadata.ts'
import { hasErrorColumns, isStored } from '../metadata.ts'
import type { TableState } from '../state.ts'
import type { Row } from '../validate-rows.ts'
import { inputColumns } from '../validate-rows.ts'
import { CopyBinaryWriter } from './copy-binary.ts'
import { withUserExprs } from './user-exprs.ts'

// Row versions written and ended. Every write adds row versions instead of changing rows in place: a row visible at
// version v has _v_min <= v < _v_max. Updates end the old version (_v_max = V) and insert the new one (_v_min = V),
// so time travel and revert are plain predicates. SQL-mode computed columns are computed inside these statements,
// for new and changed rows only; TypeScript-mode values come in computed before (src/catalog/rows.ts).

/** Rows per INSERT statement: one JSON document per batch measured ~2x faster than per-value parameters. */
export const INSERT_BATCH = 5000

export interface WriteCounts {
  inserted: number
  updated: number
  deleted: number
  computed: number
  excs: number
  readonly colsWithExcs: Set<string>
  /** Columns whose values an update changed: the set columns and the computed columns recomputed from them. */
  readonly updatedCols: Set<string>
}

export const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, deleted: 0, computed: 0, excs: 0, colsWithExcs: new Set(), updatedCols: new Set() })

/**
 * Notes the columns an update changed for its status (updatedCols): the user's columns only. The cascade also
 * recomputes hidden ones (an embedding index's vectors, the column a background job is computing), whose names
 * ("_idx_idx0", "_job1_up") users never see.
 */
export function noteUpdatedCols(counts: WriteCounts, columns: Iterable<Pick<ColumnMd, 'name' | 'hidden'>>): void {
  for (const c of columns) if (!c.hidden) counts.updatedCols.add(c.name)
}

export function columnNameMap(md: TableMd): Map<string, string> {
  return new Map(md.columns.map((c) => [valueColumn(c.id), c.name]))
}

/** A column of the row source an insert reads (`x`): its data-table name and Postgres type. */
export interface SourceColumn {
  readonly name: string
  readonly pgType: string
}

/**
 * The shape of an insert into a table's data table from a row source `x`: the source holds the input columns, the
 * per-cell error columns of media inputs and the TypeScript-computed columns (value + error); SQL-mode computed
 * columns are computed in the select list. Shared by the batch inserts below and the staged bulk load (staging.ts).
 */
export interface InsertShape {
  readonly source: readonly SourceColumn[]
  readonly target: readonly string[]
  readonly select: readonly string[]
  readonly sqlPlans: readonly ComputedPlan[]
}

export function insertShape(md: TableMd, version: number, params: ParamList, withRowIds = false): InsertShape {
  const inputs = inputColumns(md)
  const source: SourceColumn[] = []
  const target: string[] = ['_v_min']
  const select: string[] = [`${params.param(version)}::integer`]
  const pass = (name: string, type: string) => {
    source.push({ name, pgType: type })
    target.push(name)
    select.push(`x.${name}`)
  }
  if (withRowIds) pass('_rowid', 'bigint')
  for (const c of inputs) pass(valueColumn(c.column.id), pgType(c.type))
  for (const c of inputs) if (c.column.cellErrors) (pass(errorTypeColumn(c.column.id), 'text'), pass(errorMsgColumn(c.column.id), 'text'))
  const scope = new ColumnScope(md, (c) => `x.${valueColumn(c.id)}`)
  const plans = computedPlans(md)
  for (const p of plans) {
    const name = valueColumn(p.column.id)
    if (p.mode === 'sql') {
      target.push(name)
      select.push(compileExpr(p.expr, scope, params))
    } else {
      pass(name, pgType(parseType(p.column.type)))
      pass(errorTypeColumn(p.column.id), 'text')
      pass(errorMsgColumn(p.column.id), 'text')
    }
  }
  return { source, target, select, sqlPlans: plans.filter((p) => p.mode === 'sql') }
}

/**
 * Inserts validated rows as new rows of `version`, computing SQL-mode computed columns inside the statement and
 * storing the TypeScript-computed values passed in.
 */
export async function insertRows(
  tx: Queryable,
  state: TableState,
  version: number,
  rows: readonly Row[],
  tsValues: Map<number, { values: unknown[]; errors: (CellError | null)[] }>,
  counts: WriteCounts,
  rowIds?: readonly number[],
  /** Per row, the media cells stored as null plus their error (insert with onError: 'ignore'). */
  cellErrors?: readonly (Readonly<Record<string, CellError>> | undefined)[],
  from = 0,
  to = rows.length,
): Promise<void> {
  const md = state.md
  const inputs = inputColumns(md)
  const errorInputs = inputs.filter((c) => c.column.cellErrors)
  const params = new ParamList()
  const shape = insertShape(md, version, params, rowIds !== undefined)
  const first = params.values.length + 1 // the batch's parameter(s) come after the shape's
  const tsTypes = new Map([...tsValues.keys()].map((id) => [id, parseType(md.columns.find((c) => c.id === id)!.type)]))
  // Statement form by batch size (bench/run.ts insert): per-column arrays through unnest() beat one jsonb document
  // on small batches; where a column cannot travel as a flat array (arrays, bytes) the document is the only form.
  const unnestable = shape.source.every((c) => UNNEST_TYPES.has(c.pgType))
  const unnest = (n: number) => unnestable && n <= UNNEST_MAX_ROWS
  const statement = (useUnnest: boolean) => {
    const from = useUnnest
      ? `unnest(${shape.source.map((c, k) => `$${first + k}::${c.pgType}[]`).join(', ')}) as x(${shape.source.map((c) => c.name).join(', ')})`
      : `jsonb_to_recordset($${first}::jsonb) as x(${shape.source.map((c) => `${c.name} ${c.pgType}`).join(', ')})`
    return `insert into ${dataTable(state.id)} (${shape.target.join(', ')}) select ${shape.select.join(', ')} from ${from}`
  }
  // Float arrays (vectors) on PGlite: COPY's binary form into a staging table, joined to the document by row.
  const binary = tx.copyBinaryFrom ? binaryArraySource(shape.source) : undefined
  const sqlBinary = binary ? `insert into ${dataTable(state.id)} (${shape.target.join(', ')}) select ${shape.select.join(', ')} from ${binary.from(first)}` : ''
  // One source value per cell, in shape.source order, into a reused array; the same values feed either form.
  const out: unknown[] = new Array(shape.source.length)
  const cells = (i: number): unknown[] => {
    const row = rows[i]!
    let k = 0
    if (rowIds) out[k++] = rowIds[i]
    for (const c of inputs) out[k++] = toStoreJson(c.type, row[c.column.name])
    const errs = cellErrors?.[i]
    for (const c of errorInputs) {
      const e = errs?.[c.column.name]
      out[k++] = e?.errortype ?? null
      out[k++] = e?.errormsg ?? null
    }
    for (const [colId, r] of tsValues) {
      const err = r.errors[i]
      out[k++] = toStoreJson(tsTypes.get(colId)!, r.values[i])
      out[k++] = err?.errortype ?? null
      out[k++] = err?.errormsg ?? null
    }
    return out
  }
  const sqlUnnest = unnestable ? statement(true) : ''
  const sqlJson = statement(false)
  const names = shape.source.map((c) => c.name)
  const isJson = shape.source.map((c) => c.pgType === 'jsonb')
  for (let start = from; start < to; start += INSERT_BATCH) {
    const end = Math.min(to, start + INSERT_BATCH)
    const useUnnest = unnest(to - from)
    let values: unknown[]
    if (useUnnest) {
      const columns = shape.source.map(() => new Array<unknown>(end - start))
      for (let i = start; i < end; i++) {
        const c = cells(i)
        for (let k = 0; k < c.length; k++) columns[k]![i - start] = isJson[k] && c[k] !== null ? JSON.stringify(c[k]) : c[k]
      }
      values = [...params.values, ...columns]
    } else {
      const docs = new Array<Record<string, unknown>>(end - start)
      const staged = binary?.payload(end - start)
      for (let i = start; i < end; i++) {
        const c = cells(i)
        // A cell that has no binary form (not a rectangular array of numbers) sends the whole batch as a document.
        if (staged?.add(i - start, c) === false) staged.abandon()
        const doc: Record<string, unknown> = staged?.usable ? { [ORD]: i - start } : {}
        for (let k = 0; k < c.length; k++) if (c[k] !== null && !(staged?.usable && binary!.staged.has(k))) doc[names[k]!] = c[k]
        docs[i - start] = doc
      }
      if (staged && !staged.usable) for (let i = start; i < end; i++) docs[i - start] = Object.fromEntries(cells(i).flatMap((v, k) => (v === null ? [] : [[names[k]!, v]])))
      values = [...params.values, JSON.stringify(docs)]
      if (staged?.usable) {
        try {
          await binary!.withStaged(tx, staged.bytes(), () => tx.query(sqlBinary, values))
        } catch (e) {
          throw await sqlComputeError(e, state, shape.sqlPlans, { rows: rows.slice(start, end), start })
        }
        continue
      }
    }
    try {
      await tx.query(useUnnest ? sqlUnnest : sqlJson, values)
    } catch (e) {
      throw await sqlComputeError(e, state, shape.sqlPlans, { rows: rows.slice(start, end), start })
    }
  }
  counts.inserted += to - from
  counts.computed += (to - from) * shape.sqlPlans.length
}

/** Source types that travel as one flat Postgres array each (json cells as their JSON text). */
const UNNEST_TYPES = new Set(['bigint', 'text', 'double precision', 'boolean', 'timestamptz', 'date', 'uuid', 'jsonb'])
/** Writes of up to this many rows (a statement's range: a small insert, or a staged write's first step) use unnest();
 * bigger ones the jsonb document. Measured on the library insert (BENCHMARKS.md, "Import and insert statement forms"). */
export const UNNEST_MAX_ROWS = 2000


/** What a failed insert of a computed column tells its caller to do (a background job says its own). */
export const INSERT_FIX = 'nothing was written (use onError: \'ignore\' to store the error per cell instead)'
/**
 * What a failed update, batchUpdate, upsert or recompute tells its caller: those take no onError, so the column's own
 * setting (addComputedColumn's onError, 'abort' by default) is what stopped them.
 */
export const UPDATE_FIX = 'nothing was written (the column was added with onError \'abort\', which stops a write on a failing cell; added with onError: \'ignore\', it stores the error per cell instead)'

/**
 * A computed column's statement failed (a cast of a value that is not of its type, say): the error says which column
 * and, when the rows are at hand (an insert's batch), which row — found by computing the failed statement's SQL-mode
 * expressions in TypeScript over that batch (pure expressions, no side effects; only on failure). Otherwise the
 * column and its expression, and the value the store named. Every statement that computes SQL-mode columns reports
 * through here (insert, update, batchUpdate, backfills), so they all fail alike.
 */
export async function sqlComputeError(e: unknown, state: TableState, sqlPlans: readonly ComputedPlan[], batch?: { rows: readonly Row[]; start: number }, fix = INSERT_FIX): Promise<unknown> {
  const t = translateStoreError(e, { table: state.path, columnNames: columnNameMap(state.md) })
  if (!(t instanceof TesseraError && t.code === 'INVALID_ARGUMENT' && sqlPlans.length > 0)) return t
  if (batch) {
    for (const p of sqlPlans) {
      const found = await evalCells(p.expr, batch.rows, (n) => (isCol(n) && !n.prop ? n.col : undefined)).catch(() => undefined)
      const i = found?.errors.findIndex((x) => x !== null) ?? -1
      if (i < 0) continue
      const row = batch.start + i
      return new TesseraError('COMPUTATION_FAILED', `row ${row}, computed column '${p.column.name}' of '${state.path}': ${found!.errors[i]!.errormsg}; ${fix}`, { row, column: p.column.name, table: state.path })
    }
  }
  const cast = castFailure(e, sqlPlans.map((p) => p.expr))
  const names = sqlPlans.map((p) => `'${p.column.name}'`).join(', ')
  const at = batch ? ` for rows from ${batch.start}` : ''
  return new TesseraError('COMPUTATION_FAILED', `computed column${sqlPlans.length > 1 ? 's' : ''} ${names} of '${state.path}'${at}: ${cast?.message ?? t.message}; ${fix}`, {
    table: state.path, ...(sqlPlans.length === 1 ? { column: sqlPlans[0]!.column.name } : {}), ...(cast ? { expression: cast.expression } : {}),
  })
}

/**
 * Ends the current version of every row matching `where` and inserts its successor with the new values, recomputing
 * dependent computed columns in the same statement (SQL mode) unless cascade is off.
 */
export async function updateRows(
  tx: Queryable,
  state: TableState,
  version: number,
  where: ExprNode | undefined,
  values: Map<ColumnMd, ExprNode>,
  recompute: readonly ComputedPlan[],
  counts: WriteCounts,
  rows?: readonly string[],
): Promise<ComputedPlan[]> {
  const md = state.md
  const params = new ParamList()
  const whereScope = new ColumnScope(md, (c) => `t0.${valueColumn(c.id)}`)
  const oldScope = new ColumnScope(md, (c) => `old.${valueColumn(c.id)}`)
  const newSql = new Map<number, string>()
  for (const [c, node] of values) newSql.set(c.id, `(${compileExpr(node, oldScope, params)})`)
  const newScope = new ColumnScope(md, (c) => newSql.get(c.id) ?? `old.${valueColumn(c.id)}`)
  const target: string[] = ['_rowid', '_v_min']
  const select: string[] = ['old._rowid', `${params.param(version)}::integer`]
  for (const c of md.columns.filter(isStored)) {
    const name = valueColumn(c.id)
    const p = recompute.find((x) => x.column.id === c.id)
    target.push(name)
    if (newSql.has(c.id)) select.push(newSql.get(c.id)!)
    else if (p?.mode === 'sql') select.push(compileExpr(p.expr, newScope, params))
    else if (p?.mode === 'ts') select.push('null')
    else select.push(`old.${name}`)
    if (hasErrorColumns(c)) {
      target.push(errorTypeColumn(c.id), errorMsgColumn(c.id))
      // Recomputed, or set to a new (checked) value: the old error no longer applies.
      if (p || newSql.has(c.id)) select.push('null', 'null')
      else select.push(`old.${errorTypeColumn(c.id)}`, `old.${errorMsgColumn(c.id)}`)
    }
  }
  const whereSql = (where ? ` and ${compileExpr(where, whereScope, params)}` : '') + onlyRowVersions('t0', rows, params)
  const table = dataTable(state.id)
  const sql = `with old as (update ${table} as t0 set _v_max = ${params.param(version)}::integer where t0._v_max = ${MAX_VERSION}${whereSql} returning t0.*) insert into ${table} (${target.join(', ')}) select ${select.join(', ')} from old`
  try {
    const r = await tx.query(sql, params.values)
    if (r.affectedRows > 0) noteUpdatedCols(counts, [...values.keys(), ...recompute.map((p) => p.column)])
    counts.updated += r.affectedRows
    counts.computed += r.affectedRows * recompute.filter((p) => p.mode === 'sql').length
  } catch (e) {
    // The user's own filter and values first: a computed column recomputed in the same statement is not to blame.
    throw namedExprFailure(e, [where, ...values.values()], state.path) ?? await sqlComputeError(e, state, recompute.filter((p) => p.mode === 'sql'), undefined, UPDATE_FIX)
  }
  return recompute.filter((p) => p.mode === 'ts')
}

/** TypeScript-computed values for rows identified by _rowid, computed before the transaction that writes them. */
export interface ComputedInPlace {
  readonly rows: readonly Row[]
  readonly values: Map<number, { values: unknown[]; errors: (CellError | null)[] }>
}

/** Writes computed values (and their per-cell errors) in place, by _rowid, into the rows matching rowFilter. */
export async function writeComputedValues(tx: Queryable, state: TableState, computed: ComputedInPlace, rowFilter: string, tids?: readonly string[]): Promise<void> {
  const { rows: decoded, values: ts } = computed
  if (ts.size === 0 || decoded.length === 0) return
  const sets: string[] = []
  // By _rowid among the rows of a version (the _v_min index finds them), or by row version address (tids, aligned
  // with the rows) among the current rows: a join on _rowid there would scan the whole table for every step.
  const recordCols = [tids ? '_tid text' : '_rowid bigint']
  for (const [colId] of ts) {
    const c = state.md.columns.find((x) => x.id === colId)!
    const name = valueColumn(colId)
    recordCols.push(`${name} ${pgType(parseType(c.type))}`, `${errorTypeColumn(colId)} text`, `${errorMsgColumn(colId)} text`)
    sets.push(`${name} = x.${name}`, `${errorTypeColumn(colId)} = x.${errorTypeColumn(colId)}`, `${errorMsgColumn(colId)} = x.${errorMsgColumn(colId)}`)
  }
  for (let start = 0; start < decoded.length; start += INSERT_BATCH) {
    const params = new ParamList()
    const docsParam = params.param(null)
    const match = tids ? `t.ctid = x._tid::tid${blockRange('t', tids.slice(start, start + INSERT_BATCH), params)}` : 't._rowid = x._rowid'
    const sql = `update ${dataTable(state.id)} as t set ${sets.join(', ')} from jsonb_to_recordset(${docsParam}::jsonb) as x(${recordCols.join(', ')}) where ${match} and t.${rowFilter}`
    const docs = decoded.slice(start, start + INSERT_BATCH).map((row, k) => {
      const doc: Record<string, unknown> = tids ? { _tid: tids[start + k] } : { _rowid: row._rowid }
      for (const [colId, res] of ts) {
        const type = parseType(state.md.columns.find((x) => x.id === colId)!.type)
        doc[valueColumn(colId)] = toStoreJson(type, res.values[start + k])
        const err = res.errors[start + k]
        doc[errorTypeColumn(colId)] = err?.errortype ?? null
        doc[errorMsgColumn(colId)] = err?.errormsg ?? null
      }
      return doc
    })
    params.values[0] = JSON.stringify(docs)
    await tx.query(sql, params.values)
  }
}

/**
 * The current row versions an update or delete will change, by physical address (ctid), for a staged write
 * (src/catalog/commit.ts) that changes them a slice per step: a tid list finds its rows without a scan, and under the
 * table's lock nothing else moves them before the write (each row version is changed once, by this write).
 */
export async function matchingRows(db: Queryable, state: TableState, where: ExprNode | undefined): Promise<string[]> {
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const whereSql = where ? ` and ${compileExpr(where, scope, params)}` : ''
  const rows = await withUserExprs(state.path, [where], () => readPaged<{ _tid: string }>(db, state, `select t0.ctid::text as _tid from ${dataTable(state.id)} as t0 where t0._v_max = ${MAX_VERSION}${whereSql}`, params))
  return rows.map((r) => r._tid)
}

/**
 * Store time one page of readPaged aims at. Pages were a fixed 256 blocks (8 kB each): reading the row addresses of
 * a 100k-row table for a backfill took 115-540 ms a page on a loaded 2-core machine, and point reads waited behind
 * each one (the backfill's slowest probes).
 */
const READ_PAGE_MS = 30

/**
 * Runs a select over the data table (alias t0, ending in its WHERE clause) block range by block range (a TID range
 * scan needs no index), so a big table is read in short statements that other callers' reads come between. Ranges
 * start small and are sized to READ_PAGE_MS at the best rate seen (Pace: a page's time includes waiting behind others).
 */
async function readPaged<R>(db: Queryable, state: TableState, sql: string, params: ParamList): Promise<R[]> {
  const size = await db.query<{ blocks: number }>(`select (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int as blocks`, [dataTable(state.id)])
  const blocks = size.rows[0]!.blocks
  const from = params.param(0)
  const to = params.param(0)
  const paged = `${sql} and ${blockRangeSql('t0', from, to)}`
  const out: R[] = []
  const pace = new Pace(16, READ_PAGE_MS, { min: 4, max: 1024, growth: 2 })
  for (let start = 0; start <= blocks;) {
    const n = pace.size
    params.values[params.values.length - 2] = start
    params.values[params.values.length - 1] = start + n
    const began = performance.now()
    const r = await db.query<R>(paged, params.values)
    pace.took(n, performance.now() - began)
    for (const row of r.rows) out.push(row)
    start += n
  }
  return out
}

/** Ends the current row versions `tids` as of `version` (a staged step of a view sync); returns how many. */
export async function endRowVersions(tx: Queryable, tableId: number, version: number, tids: readonly string[]): Promise<number> {
  const params = new ParamList()
  const r = await tx.query(`update ${dataTable(tableId)} as t0 set _v_max = ${params.param(version)}::integer where t0._v_max = ${MAX_VERSION}${onlyRowVersions('t0', tids, params)}`, params.values)
  return r.affectedRows
}

/** Only the row versions `tids`: a TID range scan over their blocks, then the list (Postgres hashes it). */
function onlyRowVersions(alias: string, tids: readonly string[] | undefined, params: ParamList): string {
  return tids ? `${blockRange(alias, tids, params)} and ${alias}.ctid = any(${params.param([...tids])}::tid[])` : ''
}

/**
 * The blocks holding `tids`, as bounds Postgres turns into a TID range scan: a step reads only its own blocks, so a
 * staged write reads the table once in all (with `ctid = any(...)` alone the planner scans the whole table).
 */
export function blockRange(alias: string, tids: readonly string[], params: ParamList): string {
  if (tids.length === 0) return ' and false'
  let first = Infinity
  let last = -1
  for (const t of tids) {
    const block = Number(t.slice(1, t.indexOf(',')))
    if (block < first) first = block
    if (block > last) last = block
  }
  return ` and ${blockRangeSql(alias, params.param(first), params.param(last + 1))}`
}

/**
 * A computed column's backfill in SQL for the current row versions `tids` (a slice of matchingRows): the column's
 * expression computed in place. Returns the rows written.
 */
export async function backfillRows(tx: Queryable, target: TableState, plan: ComputedPlan, tids: readonly string[]): Promise<number> {
  const params = new ParamList()
  const scope = new ColumnScope(target.md, (c) => `t0.${valueColumn(c.id)}`)
  const set = `${valueColumn(plan.column.id)} = ${compileExpr(plan.expr, scope, params)}`
  try {
    const r = await tx.query(`update ${dataTable(target.id)} as t0 set ${set} where t0._v_max = ${MAX_VERSION}${onlyRowVersions('t0', tids, params)}`, params.values)
    return r.affectedRows
  } catch (e) {
    throw await sqlComputeError(e, target, [plan])
  }
}

/**
 * The select list reading `columns` by name, for computing plans from: a computed column (one a plan reads by value,
 * ComputedPlan.reads) comes with its stored error beside it, under readErrorKeys, so that its dependents carry it.
 */
export function readColumnsSql(alias: string, columns: readonly ColumnMd[]): string[] {
  return columns.flatMap((c) => {
    const value = `${alias}.${valueColumn(c.id)} as ${quoteIdent(c.name)}`
    if (!c.computed || !hasErrorColumns(c)) return [value]
    const keys = readErrorKeys(c.name)
    return [value, `${alias}.${errorTypeColumn(c.id)} as ${quoteIdent(keys.errortype)}`, `${alias}.${errorMsgColumn(c.id)} as ${quoteIdent(keys.errormsg)}`]
  })
}

/** The current rows' row version address, _rowid and the inputs of `plan` by name (a TypeScript-mode backfill). */
export async function readCurrentInputs(db: Queryable, state: TableState, plan: ComputedPlan): Promise<(Row & { _tid: string })[]> {
  // The key too: a row the plan fails on is named by it (src/catalog/failed-rows.ts).
  const inputs = state.md.columns.filter((c) => plan.inputs.has(c.name) || state.md.primaryKey.includes(c.id))
  const cols = ['t0.ctid::text as _tid', 't0._rowid', ...readColumnsSql('t0', inputs)]
  return readPaged<Row & { _tid: string }>(db, state, `select ${cols.join(', ')} from ${dataTable(state.id)} as t0 where t0._v_max = ${MAX_VERSION}`, new ParamList())
}

/** The slice [start, end) of values computed ahead of a staged write, for the step that writes those rows. */
export function sliceComputed(c: ComputedInPlace, start: number, end: number): ComputedInPlace {
  return {
    rows: c.rows.slice(start, end),
    values: new Map([...c.values].map(([id, v]) => [id, { values: v.values.slice(start, end), errors: v.errors.slice(start, end) }])),
  }
}

export async function deleteRows(tx: Queryable, state: TableState, version: number, where: ExprNode | undefined, counts: WriteCounts, rows?: readonly string[]): Promise<void> {
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const whereSql = (where ? ` and ${compileExpr(where, scope, params)}` : '') + onlyRowVersions('t0', rows, params)
  const r = await withUserExprs(state.path, [where], () => tx.query(`update ${dataTable(state.id)} as t0 set _v_max = ${params.param(version)}::integer where t0._v_max = ${MAX_VERSION}${whereSql}`, params.values))
  counts.deleted += r.affectedRows
}

/**
 * The rows an update will change as they will be after it: _rowid, the row version's ctid, and the input columns
 * by name with the set values applied. Read in block pages (see readPaged), outside any transaction.
 */
export async function readUpdatedRows(db: Queryable, state: TableState, where: ExprNode | undefined, values: Map<ColumnMd, ExprNode>, plans: readonly ComputedPlan[]): Promise<(Row & { _tid: string })[]> {
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const cols = inputColumns(state.md).map((c) => {
    const set = [...values].find(([col]) => col.id === c.column.id)
    return `${set ? `(${compileExpr(set[1], scope, params)})` : `t0.${valueColumn(c.column.id)}`} as ${quoteIdent(c.column.name)}`
  })
  // Computed columns that TypeScript plans read by value are read as stored (an update cannot set them).
  cols.push(...readColumnsSql('t0', readByValue(state.md, plans)))
  const whereSql = where ? ` and ${compileExpr(where, scope, params)}` : ''
  return withUserExprs(state.path, [where, ...values.values()], () => readPaged<Row & { _tid: string }>(db, state, `select t0.ctid::text as _tid, t0._rowid, ${cols.join(', ')} from ${dataTable(state.id)} as t0 where t0._v_max = ${MAX_VERSION}${whereSql}`, params))
}

// ---------------------------------------------------------------- float arrays in COPY's binary form

/** The batch document's row number, joining it to the staged arrays. */
const ORD = '_ord'
/** Element width of the array columns staged in binary (real: 4 bytes, double precision: 8). */
const BINARY_ELEMENT: Record<string, { width: 4 | 8 }> = { 'real[]': { width: 4 }, 'double precision[]': { width: 8 } }

/**
 * The row source of an insert whose float-array columns (vectors) travel in COPY's binary form: PGlite parses a
 * number given as text in microseconds (jsonb, array_in: ~3 µs a float in WASM, most of an indexed insert), the
 * binary form in next to nothing (5,000 × 256 floats: 7.7 s as a jsonb document, 0.19 s by binary COPY). The arrays
 * go into a temporary table of this session (made when missing, truncated after each batch: deleted rows would stay in its heap and every later join scan them), the other columns keep
 * the jsonb document, and the two join on the row's place in the batch, in order (so _rowid follows the input).
 */
export function binaryArraySource(source: readonly SourceColumn[]) {
  const staged = new Map<number, { width: 4 | 8 }>()
  source.forEach((c, k) => BINARY_ELEMENT[c.pgType] && staged.set(k, BINARY_ELEMENT[c.pgType]!))
  if (staged.size === 0) return undefined
  const cols = [...staged.keys()]
  const table = quoteIdent(`tessera_stage_${cols.map((k) => (staged.get(k)!.width === 4 ? 'r' : 'd')).join('')}`)
  const create = `create temporary table if not exists ${table} (${ORD} integer${cols.map((k, j) => `, a${j} ${source[k]!.pgType}`).join('')})`
  const record = [`${ORD} integer`, ...source.filter((_, k) => !staged.has(k)).map((c) => `${c.name} ${c.pgType}`)]
  return {
    staged,
    /** The document's key for a row's place in the batch. */
    ord: ORD,
    from: (param: number) =>
      `(select d.*, ${cols.map((k, j) => `s.a${j} as ${source[k]!.name}`).join(', ')} from jsonb_to_recordset($${param}::jsonb) as d(${record.join(', ')}) join ${table} s on s.${ORD} = d.${ORD} order by d.${ORD}) as x`,
    /** Stages the arrays (`bytes`, from payload()), runs the statement that joins them, and empties the table. */
    async withStaged<T>(tx: Queryable, bytes: Uint8Array, run: () => Promise<T>): Promise<T> {
      try {
        await tx.exec(create)
        await tx.copyBinaryFrom!(table, bytes)
        return await run()
      } finally {
        await tx.exec(`truncate ${table}`).catch(() => undefined)
      }
    },
    payload: (rows: number) => new BinaryRows(rows, cols.map((k) => ({ k, ...staged.get(k)! }))),
  }
}

/** COPY's binary format for (ord, array, array, ...) rows (the writer imports use, copy-binary.ts). */
class BinaryRows {
  readonly #w: CopyBinaryWriter
  usable = true

  constructor(rows: number, readonly cols: readonly { k: number; width: 4 | 8 }[]) {
    this.#w = new CopyBinaryWriter(Math.max(1024, rows * 64))
  }

  /** Appends row `ord` from its source cells; false when a staged cell has no binary form here. */
  add(ord: number, cells: readonly unknown[]): boolean {
    if (!this.usable) return false
    this.#w.row(1 + this.cols.length)
    this.#w.int32(ord)
    for (const c of this.cols) {
      const v = cells[c.k]
      if (v === null || v === undefined) this.#w.null()
      else if (!this.#w.floatArray(v, c.width)) return false
    }
    return true
  }

  abandon(): void {
    this.usable = false
  }

  bytes(): Uint8Array {
    return this.#w.finish()
  }
}
