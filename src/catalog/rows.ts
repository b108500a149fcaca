import * as v from 'valibot'
import { invalid, TesseraError } from '../errors.ts'
import { ColumnScope, computedPlans } from '../compute/computed.ts'
import type { ComputedPlan } from '../compute/computed.ts'
import { compileExpr } from '../query/compiler.ts'
import { evalCells } from '../query/evaluator.ts'
import type { CellError } from '../query/evaluator.ts'
import { Expr } from '../query/expr.ts'
import type { ExprNode } from '../query/nodes/index.ts'
import { isCol, isExprNode, printExpr } from '../query/nodes/index.ts'
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
  const plans = computedPlans(md)
  const recordCols: string[] = []
  const targetCols: string[] = ['_v_min']
  const selectCols: string[] = []
  const params = new ParamList()
  const jsonParam = params.param(null) // $1: the batch document, filled per batch
  const versionParam = params.param(version)
  selectCols.push(`${versionParam}::integer`)
  if (rowIds) {
    recordCols.push('_rowid bigint')
    targetCols.push('_rowid')
    selectCols.push('x._rowid')
  }
  for (const c of inputs) {
    const name = valueColumn(c.column.id)
    recordCols.push(`${name} ${pgType(c.type)}`)
    targetCols.push(name)
    selectCols.push(`x.${name}`)
  }
  for (const c of errorInputs) {
    const et = errorTypeColumn(c.column.id)
    const em = errorMsgColumn(c.column.id)
    recordCols.push(`${et} text`, `${em} text`)
    targetCols.push(et, em)
    selectCols.push(`x.${et}`, `x.${em}`)
  }
  const scope = new ColumnScope(md, (c) => `x.${valueColumn(c.id)}`)
  for (const p of plans) {
    const name = valueColumn(p.column.id)
    targetCols.push(name)
    if (p.mode === 'sql') {
      selectCols.push(compileExpr(p.expr, scope, params))
    } else {
      recordCols.push(`${name} ${pgType(parseType(p.column.type))}`, `${errorTypeColumn(p.column.id)} text`, `${errorMsgColumn(p.column.id)} text`)
      targetCols.push(errorTypeColumn(p.column.id), errorMsgColumn(p.column.id))
      selectCols.push(`x.${name}`, `x.${errorTypeColumn(p.column.id)}`, `x.${errorMsgColumn(p.column.id)}`)
    }
  }
  const sqlPlans = plans.filter((p) => p.mode === 'sql')
  const sql = `insert into ${dataTable(state.id)} (${targetCols.join(', ')}) select ${selectCols.join(', ')} from jsonb_to_recordset(${jsonParam}::jsonb) as x(${recordCols.join(', ')})`
  for (let start = from; start < to; start += INSERT_BATCH) {
    const end = Math.min(to, start + INSERT_BATCH)
    const docs = new Array<Record<string, unknown>>(end - start)
    for (let i = start; i < end; i++) {
      const row = rows[i]!
      const doc: Record<string, unknown> = {}
      if (rowIds) doc._rowid = rowIds[i]
      for (const c of inputs) doc[valueColumn(c.column.id)] = toStoreJson(c.type, row[c.column.name])
      const errs = cellErrors?.[i]
      if (errs) {
        for (const c of errorInputs) {
          const e = errs[c.column.name]
          if (e) (doc[errorTypeColumn(c.column.id)] = e.errortype, doc[errorMsgColumn(c.column.id)] = e.errormsg)
        }
      }
      for (const [colId, r] of tsValues) {
        const type = parseType(md.columns.find((c) => c.id === colId)!.type)
        doc[valueColumn(colId)] = toStoreJson(type, r.values[i])
        const err = r.errors[i]
        if (err) {
          doc[errorTypeColumn(colId)] = err.errortype
          doc[errorMsgColumn(colId)] = err.errormsg
        }
      }
      docs[i - start] = doc
    }
    params.values[0] = JSON.stringify(docs)
    try {
      await tx.query(sql, params.values)
    } catch (e) {
      throw sqlComputeError(e, state, sqlPlans, start)
    }
  }
  counts.inserted += to - from
  counts.computed += (to - from) * sqlPlans.length
}

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

/** Update values that are expression JSON: the one node check (isExprNode), as in the builder; other JSON stays a value. */
export const isExprJson = isExprNode

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
