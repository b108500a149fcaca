import * as v from 'valibot'
import { invalid, TesseraError } from '../errors.ts'
import { ColumnScope, computedPlans } from '../compute/computed.ts'
import type { ComputedPlan } from '../compute/computed.ts'
import { compileExpr } from '../query/compiler.ts'
import { evalCells } from '../query/evaluator.ts'
import type { CellError } from '../query/evaluator.ts'
import { Expr } from '../query/expr.ts'
import type { ExprNode } from '../query/nodes/index.ts'
import { isCol, printExpr } from '../query/nodes/index.ts'
import { ExprNodeSchema } from '../query/nodes/schema.ts'
import { dataTable, errorMsgColumn, errorTypeColumn, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../query/sql.ts'
import { typeOf } from '../query/typecheck.ts'
import { translateStoreError } from '../store/errors.ts'
import type { Queryable } from '../store/types.ts'
import { formatType, isAssignable, parseType, pgType, toStoreJson, valueSchema } from '../types/index.ts'
import type { ColumnMd, TableMd } from './metadata.ts'
import { hasErrorColumns, isStored } from './metadata.ts'
import type { TableState } from './state.ts'
import type { Row } from './validate-rows.ts'
import { inputColumns } from './validate-rows.ts'
import { withMediaDestination } from '../media/index.ts'

// Row writes. Every write adds row versions instead of changing rows in place: a row visible at version v has
// _v_min <= v < _v_max. Updates end the old version (_v_max = V) and insert the new one (_v_min = V), so time travel
// and revert are plain predicates. Computed columns are computed here, for new and changed rows only.

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

export function columnNameMap(md: TableMd): Map<string, string> {
  return new Map(md.columns.map((c) => [valueColumn(c.id), c.name]))
}

/** Evaluates the TypeScript-computed columns for rows keyed by input column name. Runs outside any transaction. */
export async function computeTsColumns(
  plans: readonly ComputedPlan[],
  rows: readonly Row[],
  path: string,
  counts: WriteCounts,
): Promise<Map<number, { values: unknown[]; errors: (CellError | null)[] }>> {
  const out = new Map<number, { values: unknown[]; errors: (CellError | null)[] }>()
  const leaves = (node: ExprNode) => (isCol(node) && !node.prop ? node.col : undefined)
  for (const p of plans) {
    if (p.mode !== 'ts') continue
    const type = parseType(p.column.type)
    const schema = valueSchema({ ...type, nullable: true })
    // Media a column produces go to its destination store when it has one (Pixeltable's destination=).
    const { values, errors } = await withMediaDestination(p.column.destination, () => evalCells(p.expr, rows, leaves))
    for (let i = 0; i < values.length; i++) {
      if (errors[i]) continue
      const parsed = v.safeParse(schema, values[i])
      if (parsed.success) values[i] = parsed.output
      else {
        values[i] = null
        errors[i] = { errortype: 'TypeError', errormsg: `${printExpr(p.expr)} returned ${JSON.stringify(values[i])?.slice(0, 60)}, not ${formatType(type)}: ${parsed.issues[0].message}` }
      }
    }
    const failed = errors.findIndex((e) => e !== null)
    if (failed >= 0 && p.column.computed!.onError === 'abort') {
      throw new TesseraError('COMPUTATION_FAILED', `row ${failed}, computed column '${p.column.name}' of '${path}': ${errors[failed]!.errortype}: ${errors[failed]!.errormsg}; nothing was written (use onError: 'ignore' to store the error per cell instead)`, { row: failed, column: p.column.name })
    }
    const n = errors.filter((e) => e !== null).length
    counts.computed += values.length
    counts.excs += n
    if (n > 0) counts.colsWithExcs.add(p.column.name)
    out.set(p.column.id, { values, errors })
  }
  return out
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
      for (let i = start; i < end; i++) {
        const c = cells(i)
        const doc: Record<string, unknown> = {}
        for (let k = 0; k < c.length; k++) if (c[k] !== null) doc[names[k]!] = c[k]
        docs[i - start] = doc
      }
      values = [...params.values, JSON.stringify(docs)]
    }
    try {
      await tx.query(useUnnest ? sqlUnnest : sqlJson, values)
    } catch (e) {
      throw sqlComputeError(e, state, shape.sqlPlans, start)
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

function sqlComputeError(e: unknown, state: TableState, sqlPlans: readonly ComputedPlan[], batchStart: number): unknown {
  const t = translateStoreError(e, { table: state.path, columnNames: columnNameMap(state.md) })
  if (t instanceof TesseraError && t.code === 'INVALID_ARGUMENT' && sqlPlans.length > 0) {
    return new TesseraError('COMPUTATION_FAILED', `${t.message} (while computing ${sqlPlans.map((p) => `'${p.column.name}'`).join(', ')} for rows from ${batchStart}; use onError: 'ignore' to keep such rows with a per-cell error)`, { table: state.path })
  }
  return t
}

export type UpdateValues = Record<string, unknown>

/** Checks update values: literal values are validated like inserted ones, expressions must type-check and fit. */
export function checkUpdateValues(md: TableMd, path: string, values: UpdateValues): Map<ColumnMd, ExprNode> {
  if (!values || typeof values !== 'object' || Array.isArray(values)) throw invalid('INVALID_ARGUMENT', `update values for '${path}' must be an object of column: value`)
  const scope = new ColumnScope(md, (c) => `old.${valueColumn(c.id)}`)
  const out = new Map<ColumnMd, ExprNode>()
  for (const [name, raw] of Object.entries(values)) {
    const column = md.columns.find((c) => c.name === name)
    if (!column) throw invalid('INVALID_ARGUMENT', `update: unknown column '${name}' in '${path}'`, { column: name })
    if (column.computed) throw invalid('INVALID_ARGUMENT', `update: '${name}' is a computed column; update its inputs or use recomputeColumns`, { column: name })
    // Keys identify a row across its versions (the key index and upserts rely on it), as in Pixeltable.
    if (md.primaryKey.includes(column.id)) throw invalid('INVALID_ARGUMENT', `update: '${name}' is part of the primary key of '${path}', which cannot change; delete the row and insert it with the new key`, { column: name })
    const type = parseType(column.type)
    const node = raw instanceof Expr ? raw.node : isExprJson(raw) ? v.parse(ExprNodeSchema, raw) : undefined
    if (node) {
      const t = typeOf(node, scope)
      if (!isAssignable({ ...t, nullable: false }, { ...type, nullable: false }) || (t.nullable && !type.nullable && !isCol(node))) {
        throw invalid('INVALID_ARGUMENT', `update: ${printExpr(node)} has type ${formatType(t)}, column '${name}' is ${formatType(type)}`, { column: name })
      }
      out.set(column, node)
    } else {
      const parsed = v.safeParse(valueSchema(type), raw)
      if (!parsed.success) throw invalid('INVALID_ARGUMENT', `update, column '${name}': ${parsed.issues[0].message} for type ${formatType(type)}`, { column: name })
      out.set(column, { lit: toStoreJson(type, parsed.output), type: formatType({ ...type, nullable: true }) })
    }
  }
  if (out.size === 0) throw invalid('INVALID_ARGUMENT', `update of '${path}' names no columns`)
  return out
}

/** Values that look like expression JSON ({"col": ...}, {"fn": ...}) over HTTP; plain JSON values stay literals. */
export function isExprJson(x: unknown): boolean {
  return !!x && typeof x === 'object' && !Array.isArray(x) && (('col' in x && Object.keys(x).every((k) => ['col', 'tbl', 'prop'].includes(k))) || ('fn' in x && 'args' in x))
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
  const whereSql = where ? ` and ${compileExpr(where, whereScope, params)}` : ''
  const table = dataTable(state.id)
  const sql = `with old as (update ${table} as t0 set _v_max = ${params.param(version)}::integer where t0._v_max = ${MAX_VERSION}${whereSql} returning t0.*) insert into ${table} (${target.join(', ')}) select ${select.join(', ')} from old`
  try {
    const r = await tx.query(sql, params.values)
    if (r.affectedRows > 0) for (const name of [...[...values.keys()].map((c) => c.name), ...recompute.map((p) => p.column.name)]) counts.updatedCols.add(name)
    counts.updated += r.affectedRows
    counts.computed += r.affectedRows * recompute.filter((p) => p.mode === 'sql').length
  } catch (e) {
    throw sqlComputeError(e, state, recompute.filter((p) => p.mode === 'sql'), 0)
  }
  return recompute.filter((p) => p.mode === 'ts')
}

/** Computed columns to recompute when `changed` columns change: those reading any of them (cascade). */
export function dependentPlans(md: TableMd, changed: ReadonlySet<string>): ComputedPlan[] {
  return computedPlans(md).filter((p) => [...p.inputs].some((n) => changed.has(n)))
}

/**
 * Recomputes TypeScript-mode computed columns for the rows created at `version` (after an update), in place:
 * those row versions are not committed yet, so no reader can have seen them.
 */
export async function recomputeTsForVersion(tx: Queryable, state: TableState, version: number, plans: readonly ComputedPlan[], counts: WriteCounts): Promise<void> {
  if (plans.length === 0) return
  const md = state.md
  const inputs = inputColumns(md)
  const table = dataTable(state.id)
  const r = await tx.query<Record<string, unknown>>(
    `select _rowid, ${inputs.map((c) => `${valueColumn(c.column.id)} as "${c.column.name}"`).join(', ')} from ${table} where _v_min = $1 and _v_max = ${MAX_VERSION}`,
    [version],
  )
  if (r.rows.length === 0) return
  await writeComputedInPlace(tx, state, r.rows, plans, counts, `_v_min = ${Math.trunc(version)}`)
}

/** Computes plans for rows (with _rowid and input values by name) and writes value + error columns in place. */
export async function writeComputedInPlace(tx: Queryable, state: TableState, rows: readonly Row[], plans: readonly ComputedPlan[], counts: WriteCounts, rowFilter: string): Promise<void> {
  await writeComputedValues(tx, state, await computeInPlace(state, rows, plans, counts), rowFilter)
}

/** TypeScript-computed values for rows identified by _rowid, computed before the transaction that writes them. */
export interface ComputedInPlace {
  readonly rows: readonly Row[]
  readonly values: Map<number, { values: unknown[]; errors: (CellError | null)[] }>
}

/** Computes plans for rows (with _rowid and input values by name). Runs outside any transaction. */
export async function computeInPlace(state: TableState, rows: readonly Row[], plans: readonly ComputedPlan[], counts: WriteCounts): Promise<ComputedInPlace> {
  const inputs = inputColumns(state.md)
  const decoded = rows.map((row) => {
    const o: Row = { _rowid: row._rowid }
    for (const c of inputs) o[c.column.name] = row[c.column.name]
    return o
  })
  return { rows: decoded, values: await computeTsColumns(plans, decoded, state.path, counts) }
}

/** Writes computed values (and their per-cell errors) in place, by _rowid, into the rows matching rowFilter. */
export async function writeComputedValues(tx: Queryable, state: TableState, computed: ComputedInPlace, rowFilter: string): Promise<void> {
  const { rows: decoded, values: ts } = computed
  if (ts.size === 0 || decoded.length === 0) return
  const sets: string[] = []
  const recordCols = ['_rowid bigint']
  for (const [colId] of ts) {
    const c = state.md.columns.find((x) => x.id === colId)!
    const name = valueColumn(colId)
    recordCols.push(`${name} ${pgType(parseType(c.type))}`, `${errorTypeColumn(colId)} text`, `${errorMsgColumn(colId)} text`)
    sets.push(`${name} = x.${name}`, `${errorTypeColumn(colId)} = x.${errorTypeColumn(colId)}`, `${errorMsgColumn(colId)} = x.${errorMsgColumn(colId)}`)
  }
  const sql = `update ${dataTable(state.id)} as t set ${sets.join(', ')} from jsonb_to_recordset($1::jsonb) as x(${recordCols.join(', ')}) where t._rowid = x._rowid and t.${rowFilter}`
  for (let start = 0; start < decoded.length; start += INSERT_BATCH) {
    const docs = decoded.slice(start, start + INSERT_BATCH).map((row, k) => {
      const doc: Record<string, unknown> = { _rowid: row._rowid }
      for (const [colId, res] of ts) {
        const type = parseType(state.md.columns.find((x) => x.id === colId)!.type)
        doc[valueColumn(colId)] = toStoreJson(type, res.values[start + k])
        const err = res.errors[start + k]
        doc[errorTypeColumn(colId)] = err?.errortype ?? null
        doc[errorMsgColumn(colId)] = err?.errormsg ?? null
      }
      return doc
    })
    await tx.query(sql, [JSON.stringify(docs)])
  }
}

/**
 * Before an update: reads the rows it will change as they will be after it (input columns by name, the set values
 * applied) and computes the TypeScript-mode plans for them, outside any transaction: a UDF may take its time, or
 * query this database, without holding the store. Undefined when no TypeScript plan is involved.
 */
export async function precomputeUpdate(
  db: Queryable, state: TableState, where: ExprNode | undefined, values: Map<ColumnMd, ExprNode>, plans: readonly ComputedPlan[], counts: WriteCounts,
): Promise<ComputedInPlace | undefined> {
  const tsPlans = plans.filter((p) => p.mode === 'ts')
  if (tsPlans.length === 0) return undefined
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const cols = inputColumns(state.md).map((c) => {
    const set = [...values].find(([col]) => col.id === c.column.id)
    return `${set ? `(${compileExpr(set[1], scope, params)})` : `t0.${valueColumn(c.column.id)}`} as ${quoteIdent(c.column.name)}`
  })
  const whereSql = where ? ` and ${compileExpr(where, scope, params)}` : ''
  const r = await db.query<Row>(`select t0._rowid, ${cols.join(', ')} from ${dataTable(state.id)} as t0 where t0._v_max = ${MAX_VERSION}${whereSql}`, params.values)
  return computeInPlace(state, r.rows, tsPlans, counts)
}

export async function deleteRows(tx: Queryable, state: TableState, version: number, where: ExprNode | undefined, counts: WriteCounts): Promise<void> {
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (c) => `t0.${valueColumn(c.id)}`)
  const whereSql = where ? ` and ${compileExpr(where, scope, params)}` : ''
  const r = await tx.query(`update ${dataTable(state.id)} as t0 set _v_max = ${params.param(version)}::integer where t0._v_max = ${MAX_VERSION}${whereSql}`, params.values)
  counts.deleted += r.affectedRows
}
