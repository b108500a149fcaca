import * as v from 'valibot'
import { invalid, TesseraError } from '../errors.ts'
import { STOPPED } from '../compute/index.ts'
import { ColumnScope, computedPlans, ownColumns, readByValue, readErrorKeys, valueRefs } from './computed.ts'
import type { ComputedPlan } from './computed.ts'
import { containsAggregate, evalCells, Expr, isCol, isExprNode, litNode, printExpr, ExprNodeSchema, valueColumn, typeOf } from '../query/index.ts'
import type { CellError, ExprNode } from '../query/index.ts'
import type { Queryable } from '../store/index.ts'
import { formatType, isAssignable, isMedia, parseType, toStoreJson, valueSchema } from '../types/index.ts'
import type { ColumnType } from '../types/index.ts'
import type { ColumnMd, TableMd } from './metadata.ts'
import type { TableState } from './state.ts'
import type { Row } from './validate-rows.ts'
import { inputColumns } from './validate-rows.ts'
import { clearStoreRefs, withMediaDestination } from '../media/index.ts'
import { withColumnAuthor } from './author.ts'
import { refuseTextToMedia } from './media-exprs.ts'
import { readUpdatedRows } from './data-table/index.ts'
import { INSERTED_ROWS, matchedRows } from './failed-rows.ts'
import type { FailedRowNames } from './failed-rows.ts'
import type { ComputedInPlace, WriteCounts } from './data-table/index.ts'

// What a row write computes and checks before the data-table layer (src/catalog/data-table/) writes it: the values
// of TypeScript-mode computed columns (outside any transaction), and update values. The statements themselves are
// re-exported here for the catalog code that writes rows.
export {
  INSERT_BATCH, UNNEST_MAX_ROWS, columnNameMap, deleteRows, emptyCounts, insertRows, insertShape, matchingRows, sliceComputed, updateRows, writeComputedValues,
} from './data-table/index.ts'
export type { ComputedInPlace, InsertShape, SourceColumn, WriteCounts } from './data-table/index.ts'

/** Serving-thread time one chunk of computed-column evaluation aims at (computeTsColumns). */
const CHUNK_MS = 8
const FIRST_CHUNK_ROWS = 64
/** Model UDFs batch their own calls; chunks never grow past what one batch of theirs would hold anyway. */
const MAX_CHUNK_ROWS = 4096
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Evaluates the TypeScript-computed columns for rows keyed by input column name. Runs outside any transaction. A plan
 * that reads another column by value (ComputedPlan.reads) gets the value computed here before it, else the stored one
 * the row carries; where that value is an error, so is the plan's cell, and its function is not called for the row.
 */
export async function computeTsColumns(
  plans: readonly ComputedPlan[],
  rows: readonly Row[],
  path: string,
  counts: WriteCounts,
  failure: { readonly job?: TsJobFailure; readonly rows?: FailedRowNames } = {},
): Promise<Map<number, { values: unknown[]; errors: (CellError | null)[] }>> {
  const out = new Map<number, { values: unknown[]; errors: (CellError | null)[] }>()
  const byName = new Map<string, { values: unknown[]; errors: (CellError | null)[] }>()
  for (const p of plans) {
    if (p.mode !== 'ts') continue
    const { values, errors } = p.reads.size === 0 ? await evalPlan(p, rows) : await evalReadingValues(p, rows, byName)
    const failed = errors.findIndex((e) => e !== null)
    // A row left uncomputed because its job was stopped (cancelled, its table dropped: src/compute/stop.ts) is no
    // failure of the column: the job keeps the rows computed before it, as for onError 'ignore', and computes the
    // rest when resumed. Only jobs run under a stop signal, so other writes never meet one.
    if (failed >= 0 && p.column.computed!.onError === 'abort' && errors[failed]!.errortype !== STOPPED) {
      const error = `${errors[failed]!.errortype}: ${errors[failed]!.errormsg}`
      if (failure.job) throw jobComputeError(p, failure.job, path, error)
      const names = failure.rows ?? INSERTED_ROWS
      const row = names.name(failed)
      throw new TesseraError('COMPUTATION_FAILED', `${row.text}, computed column '${p.column.name}' of '${path}': ${error}; ${names.fix}`, { ...row.details, column: p.column.name })
    }
    const n = errors.filter((e) => e !== null).length
    counts.computed += values.length
    counts.excs += n
    if (n > 0) counts.colsWithExcs.add(p.column.name)
    out.set(p.column.id, { values, errors })
    byName.set(p.column.name, { values, errors })
  }
  return out
}

/** How a background job's failure on a row is told: by the column it computes, and what to do next. */
export interface TsJobFailure {
  /** The column the job computes; its plan's column is a hidden one (`_job1_width`) users never see. */
  readonly columnName: string
  readonly fix: string
}

/**
 * A job's TypeScript-computed column failed on a row (onError 'abort'): named as a SQL-computed job's failure is
 * (sqlComputeError), by the column the job computes and the expression. No row number: an index within the job's
 * batch would point at no row the user can find.
 */
function jobComputeError(p: ComputedPlan, job: TsJobFailure, path: string, error: string): TesseraError {
  const expression = printExpr(p.expr)
  return new TesseraError('COMPUTATION_FAILED', `computed column '${job.columnName}' of '${path}': ${error} in ${expression}; ${job.fix}`, { table: path, column: job.columnName, expression })
}

/**
 * A plan that reads computed columns (ComputedPlan.reads): each row gets their values and errors (computed in this
 * pass, or stored on the row). Where a column it reads by value is an error, the row carries that error and is not
 * evaluated; a column it reads only through .errortype/.errormsg is what the plan looks at, so its error stays data.
 */
async function evalReadingValues(p: ComputedPlan, rows: readonly Row[], computed: ReadonlyMap<string, { values: unknown[]; errors: (CellError | null)[] }>): Promise<{ values: unknown[]; errors: (CellError | null)[] }> {
  const values: unknown[] = new Array(rows.length).fill(null)
  const errors: (CellError | null)[] = new Array(rows.length).fill(null)
  const evaluated: number[] = []
  const inputs: Row[] = []
  const byValue = valueRefs(p.expr)
  rows.forEach((row, i) => {
    const input: Row = { ...row }
    for (const name of p.reads) {
      const fresh = computed.get(name)
      const keys = readErrorKeys(name)
      if (fresh) {
        input[name] = fresh.values[i]
        input[keys.errortype] = fresh.errors[i]?.errortype ?? null
        input[keys.errormsg] = fresh.errors[i]?.errormsg ?? null
      }
      const error = input[keys.errortype] != null ? { errortype: String(input[keys.errortype]), errormsg: String(input[keys.errormsg] ?? '') } : null
      if (error && byValue.has(name) && !errors[i]) errors[i] = { errortype: error.errortype, errormsg: `column '${name}' failed: ${error.errormsg}` }
    }
    if (!errors[i]) (evaluated.push(i), inputs.push(input))
  })
  const cells = await evalPlan(p, inputs)
  evaluated.forEach((i, k) => ((values[i] = cells.values[k]), (errors[i] = cells.errors[k] ?? null)))
  return { values, errors }
}

/** Evaluates one plan over rows, in chunks that let the event loop through, and checks each value against its type. */
async function evalPlan(p: ComputedPlan, rows: readonly Row[]): Promise<{ values: unknown[]; errors: (CellError | null)[] }> {
  // A computed column's .errortype/.errormsg it reads come beside the column's value (readErrorKeys).
  const leaves = (node: ExprNode) => (!isCol(node) ? undefined : !node.prop ? node.col : p.reads.has(node.col) ? readErrorKeys(node.col)[node.prop] : undefined)
  const type = parseType(p.column.type)
  const schema = valueSchema({ ...type, nullable: true })
  // The table's own media cells (checked when written) are within the caller's reach: no lookup per row.
  for (const name of p.mediaInputs ?? []) clearStoreRefs(rows.map((r) => r[name]))
  const values: unknown[] = []
  const errors: (CellError | null)[] = []
  // In chunks sized to a few ms, with the event loop let through between them: this runs on the serving thread,
  // and 5,000 rows of a lexical embedding plus the check of each vector held /health for 150-280 ms at a time.
  let chunk = FIRST_CHUNK_ROWS
  for (let start = 0; start < rows.length; ) {
    const started = performance.now()
    // Whether the event loop got a turn during the chunk: then the function waited on something (a remote model, a
    // worker) and the time was not this thread's, so the chunk grows instead of shrinking to tiny remote batches.
    let turned = false
    setImmediate(() => (turned = true))
    const part = rows.length <= chunk && start === 0 ? rows : rows.slice(start, start + chunk)
    // Media a column produces go to its destination store when it has one (Pixeltable's destination=); its media
    // reads stay within what its author could reach.
    const cells = await withColumnAuthor(p.limits, `column '${p.column.name}'`, () => withMediaDestination(p.column.destination, () => evalCells(p.expr, part, leaves)))
    for (let i = 0; i < cells.values.length; i++) {
      let value = cells.values[i]
      let error = cells.errors[i] ?? null
      if (!error) {
        const parsed = v.safeParse(schema, value)
        if (parsed.success) value = parsed.output
        else {
          error = { errortype: 'TypeError', errormsg: `${printExpr(p.expr)} returned ${preview(value)}, not ${formatType(type)}: ${parsed.issues[0].message}` }
          value = null
        }
      }
      values.push(value)
      errors.push(error)
    }
    start += part.length
    // With onError 'abort' the first failing chunk is enough: the write is refused whatever the rest computes.
    if (start >= rows.length || (p.column.computed!.onError === 'abort' && cells.errors.some((e) => e !== null))) break
    const took = turned ? 0 : performance.now() - started
    chunk = Math.max(16, Math.min(MAX_CHUNK_ROWS, Math.round(chunk * Math.min(4, Math.max(0.25, CHUNK_MS / Math.max(took, 0.5))))))
    await nextTurn()
  }
  return { values, errors }
}

/**
 * A returned value as its error shows it. JSON.stringify throws on a cyclic object (a UDF's json answer pointing at
 * itself) or a bigint inside one, which turned the column's per-cell error into an internal TypeError failing the
 * whole write.
 */
function preview(value: unknown): string {
  try {
    return String(JSON.stringify(value)).slice(0, 60)
  } catch (e) {
    return `a value JSON cannot write (${e instanceof Error ? e.message : String(e)})`
  }
}

export type UpdateValues = Record<string, unknown>

/** Checks update values: literal values are validated like inserted ones, expressions must type-check and fit. */
export function checkUpdateValues(md: TableMd, path: string, values: UpdateValues, qualifyingPaths: readonly string[] = [path]): Map<ColumnMd, ExprNode> {
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
    const given = raw instanceof Expr ? raw.node : isExprJson(raw) ? v.parse(ExprNodeSchema, raw) : undefined
    if (given) {
      const node = ownColumns(given, qualifyingPaths)
      // Checked here, or the store refuses the statement in its own words (a 500 over HTTP).
      if (containsAggregate(node)) throw invalid('INVALID_ARGUMENT', `update, column '${name}': a value cannot aggregate (each row's is computed from that row): ${printExpr(node)}`, { column: name })
      const t = typeOf(node, scope)
      if (!isAssignable({ ...t, nullable: false }, { ...type, nullable: false }) || (t.nullable && !type.nullable && !isCol(node))) {
        throw invalid('INVALID_ARGUMENT', `update: ${printExpr(node)} has type ${formatType(t)}, column '${name}' is ${formatType(type)}`, { column: name })
      }
      if (isMedia(type)) refuseTextToMedia(node, scope, `update, column '${name}'`)
      out.set(column, node)
    } else {
      const parsed = v.safeParse(valueSchema(type), raw)
      if (!parsed.success) throw invalid('INVALID_ARGUMENT', `update, column '${name}': ${parsed.issues[0].message} for type ${formatType(type)}`, { column: name })
      out.set(column, litNode(updateParam(type, parsed.output), formatType({ ...type, nullable: true })))
    }
  }
  if (out.size === 0) throw invalid('INVALID_ARGUMENT', `update of '${path}' names no columns`)
  return out
}

/**
 * A checked update value as the literal the update statement takes as a typed parameter ($n::bytea, $n::real[]).
 * toStoreJson is the form values take inside an insert's jsonb document; bytes there are '\x…' hex text, which a
 * bytea parameter refuses ('Invalid input for bytea type'): a parameter takes the bytes themselves.
 */
function updateParam(type: ColumnType, value: unknown): unknown {
  return type.kind === 'binary' && value instanceof Uint8Array ? value : toStoreJson(type, value)
}

/** Update values that are expression JSON: the one node check (isExprNode), as in the builder; other JSON stays a value. */
export const isExprJson = isExprNode

export { dependentPlans } from './computed.ts'

/**
 * Computes plans for rows (with _rowid and input values by name). Runs outside any transaction. A failing row is
 * named by `names` (by default by its key, as an update's matched rows are).
 */
export async function computeInPlace(state: TableState, rows: readonly Row[], plans: readonly ComputedPlan[], counts: WriteCounts, names?: FailedRowNames): Promise<ComputedInPlace> {
  const inputs = inputColumns(state.md)
  // Columns the plans read by value, with their stored errors (readValueColumns): a plan whose read column is not
  // recomputed here takes them from the row.
  const reads = readByValue(state.md, plans).flatMap((c) => [c.name, ...Object.values(readErrorKeys(c.name))])
  const decoded = rows.map((row) => {
    const o: Row = { _rowid: row._rowid }
    for (const c of inputs) o[c.column.name] = row[c.column.name]
    for (const key of reads) if (key in row) o[key] = row[key]
    return o
  })
  return { rows: decoded, values: await computeTsColumns(plans, decoded, state.path, counts, { rows: names ?? matchedRows(state, decoded) }) }
}

/**
 * Before an update: reads the rows it will change as they will be after it (input columns by name, the set values
 * applied) and computes the TypeScript-mode plans for them, outside any transaction: a UDF may take its time, or
 * query this database, without holding the store. Undefined when no TypeScript plan is involved. `tids` are the
 * row versions the values belong to, in the same order (see matchingRows).
 */
export async function precomputeUpdate(
  db: Queryable, state: TableState, where: ExprNode | undefined, values: Map<ColumnMd, ExprNode>, plans: readonly ComputedPlan[], counts: WriteCounts,
): Promise<(ComputedInPlace & { readonly tids: readonly string[] }) | undefined> {
  const tsPlans = plans.filter((p) => p.mode === 'ts')
  if (tsPlans.length === 0) return undefined
  const rows = await readUpdatedRows(db, state, where, values, tsPlans)
  return { ...(await computeInPlace(state, rows, tsPlans, counts)), tids: rows.map((r) => r._tid) }
}
