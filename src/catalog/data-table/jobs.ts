import { ColumnScope } from '../computed.ts'
import type { ComputedPlan } from '../computed.ts'
import { compileExpr, dataTable, errorMsgColumn, errorTypeColumn, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import type { CellError } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { parseType, pgType, toStoreJson } from '../../types/index.ts'
import type { TableState } from '../state.ts'
import { binaryArraySource, blockRange, readColumnsSql, sqlComputeError } from './rows.ts'

// Background jobs' statements (src/catalog/jobs.ts): a job computes a hidden column batch by batch in _rowid order,
// outside any transaction, and writes each batch in place into the current row versions it read.

/** How many current rows there are and the highest _rowid among them (what a new job will cover). */
export async function currentRowStats(db: Queryable, tableId: number): Promise<{ count: number; maxRowId: number }> {
  const r = await db.query<{ n: number; m: number | string | null }>(`select count(*)::int as n, max(_rowid)::bigint as m from ${dataTable(tableId)} where _v_max = ${MAX_VERSION}`)
  return { count: r.rows[0]!.n, maxRowId: Number(r.rows[0]!.m ?? 0) }
}

/**
 * Whether a job still runs as the store says: 'gone' when its row went with its dropped table, 'ended' when it was
 * cancelled (by another process) or otherwise stopped. A computing job asks, so that it stops paying for calls.
 */
export async function jobIsRunning(db: Queryable, jobId: number): Promise<'running' | 'ended' | 'gone'> {
  const r = await db.query<{ status: string }>(`select status from tessera.jobs where id = $1`, [jobId])
  return !r.rows[0] ? 'gone' : r.rows[0].status === 'running' ? 'running' : 'ended'
}

/** The columns running jobs compute on a table (a revert must not remove them from under a job). */
export async function runningJobColumns(db: Queryable, tableId: number): Promise<{ columnId: number; column: string }[]> {
  const r = await db.query<{ c: number | string | null; name: string }>(`select (spec->>'columnId')::int as c, column_name as name from tessera.jobs where table_id = $1 and status = 'running'`, [tableId])
  return r.rows.filter((x) => x.c !== null).map((x) => ({ columnId: Number(x.c), column: x.name }))
}

/**
 * The key of a job of `kind` on the table that is still running (or was interrupted, so can be resumed) and makes
 * `target`: a computed column job's column name, an index job's index name. Undefined when there is none.
 */
export async function runningJobMaking(db: Queryable, tableId: number, kind: string, target: string): Promise<string | undefined> {
  const r = await db.query<{ key: string }>(
    `select key from tessera.jobs where table_id = $1 and kind = $2 and status = 'running'
       and (case when kind = 'add_embedding_index' then spec->'index'->>'name' else column_name end) = $3 limit 1`,
    [tableId, kind, target],
  )
  return r.rows[0]?.key
}

/** A row of a job's batch: _rowid, its row version's address (_tid), a hash of its inputs (_h), the inputs by name. */
export type JobBatchRow = Record<string, unknown> & { _rowid: number | string; _tid: string; _h: string }

/** A hash of the plan's inputs as stored: a batch's write applies only where they are unchanged since its read. */
const inputsHash = (state: TableState, plan: ComputedPlan, alias: string): string =>
  `md5(row(${state.md.columns.filter((c) => plan.inputs.has(c.name)).map((c) => `${alias}.${valueColumn(c.id)}`).join(', ')})::text)`

/** The next batch of current rows after `cursor` (a _rowid) up to `maxRowId`, in _rowid order. */
export async function readJobBatch(db: Queryable, state: TableState, plan: ComputedPlan, cursor: number, maxRowId: number, limit: number): Promise<{ rows: JobBatchRow[] }> {
  const inputs = state.md.columns.filter((c) => plan.inputs.has(c.name))
  const r = await db.query<JobBatchRow>(
    `select t._rowid, t.ctid::text as _tid, ${inputsHash(state, plan, 't')} as _h${readColumnsSql('t', inputs).map((sql) => `, ${sql}`).join('')} from ${dataTable(state.id)} as t
     where t._v_max = ${MAX_VERSION} and t._rowid > $1 and t._rowid <= $2 order by t._rowid limit $3`,
    [cursor, maxRowId, limit],
  )
  return { rows: r.rows }
}

/** What a job failing on a row (onError 'abort') tells its user to do, whether its column is computed in SQL or TypeScript. */
export const JOB_FAILURE_FIX = `the job stopped at this batch, its earlier batches kept (fix the rows and resume it, or start it with onError: 'ignore' to store the error per cell instead)`

/**
 * Writes a batch's values into the current row versions it read. Rows are found by address within their blocks first
 * (a join on _rowid alone would scan the table for every batch); a row whose version moved since the read (another
 * job's write, or an update of columns that are not this column's inputs, writes a new tuple) is found again by
 * _rowid among the current versions, and still only where its inputs are unchanged: a row whose inputs were updated
 * or that was deleted since the read is skipped, since the update recomputed it through its cascade. TypeScript
 * values come in `ts` (aligned with rows); an SQL-mode column is computed in the statement.
 */
export async function writeJobBatch(tx: Queryable, state: TableState, plan: ComputedPlan, rows: readonly JobBatchRow[], ts?: { values: unknown[]; errors: (CellError | null)[] }, columnName = plan.column.name): Promise<void> {
  if (rows.length === 0) return
  const write = (items: readonly BatchItem[], byAddress: boolean) => (ts ? writeTsValues(tx, state, plan, items, ts, byAddress) : writeSqlValues(tx, state, plan, items, byAddress, columnName))
  const written = await write(rows.map((row, i) => ({ row, i })), true)
  const moved = rows.flatMap((row, i) => (written.has(String(row._rowid)) ? [] : [{ row, i }]))
  if (moved.length > 0) await write(moved, false)
}

type BatchItem = { row: JobBatchRow; i: number }
type TsValues = { values: unknown[]; errors: (CellError | null)[] }

/** The _rowids an update statement wrote (its `returning t._rowid`). */
const rowIds = (r: { rows: { _rowid: unknown }[] }): Set<string> => new Set(r.rows.map((x) => String(x._rowid)))

/** Writes TypeScript-computed values: `byAddress` matches each read row version by ctid, else by _rowid. */
async function writeTsValues(tx: Queryable, state: TableState, plan: ComputedPlan, items: readonly BatchItem[], ts: TsValues, byAddress: boolean): Promise<Set<string>> {
  const c = plan.column
  const params = new ParamList()
  const type = parseType(c.type)
  const source = [{ name: '_rowid', pgType: 'bigint' }, { name: '_tid', pgType: 'text' }, { name: '_h', pgType: 'text' }, { name: 'v', pgType: pgType(type) }, { name: 'et', pgType: 'text' }, { name: 'em', pgType: 'text' }]
  const cells = ({ row, i }: BatchItem): unknown[] => [row._rowid, row._tid, row._h, toStoreJson(type, ts.values[i]), ts.errors[i]?.errortype ?? null, ts.errors[i]?.errormsg ?? null]
  const set = `${valueColumn(c.id)} = x.v, ${errorTypeColumn(c.id)} = x.et, ${errorMsgColumn(c.id)} = x.em`
  const address = byAddress ? `t.ctid = x._tid::tid${blockRange('t', items.map((x) => x.row._tid), params)} and ` : ''
  const match = `${address}t._rowid = x._rowid and t._v_max = ${MAX_VERSION} and ${inputsHash(state, plan, 't')} = x._h`
  // Vectors (float arrays) in COPY's binary form on PGlite, as inserts send them (rows.ts binaryArraySource): as
  // jsonb text, PGlite parsed each float in ~3 µs, and a rebuild's batches held the store for hundreds of ms.
  const binary = tx.copyBinaryFrom ? binaryArraySource(source) : undefined
  const staged = binary?.payload(items.length)
  if (binary && staged) {
    // The document keeps the cells that are not staged, with each row's place in the batch to join on.
    const docs = items.map((item, ord) => {
      const cell = cells(item)
      if (!staged.add(ord, cell)) staged.abandon()
      return Object.fromEntries([[binary.ord, ord], ...cell.flatMap((value, k) => (binary.staged.has(k) ? [] : [[source[k]!.name, value]]))])
    })
    if (staged.usable) {
      const sql = `update ${dataTable(state.id)} as t set ${set} from ${binary.from(params.values.length + 1)} where ${match} returning t._rowid`
      return rowIds(await binary.withStaged(tx, staged.bytes(), () => tx.query<{ _rowid: unknown }>(sql, [...params.values, JSON.stringify(docs)])))
    }
  }
  const docs = items.map((item) => Object.fromEntries(cells(item).map((value, k) => [source[k]!.name, value])))
  return rowIds(await tx.query<{ _rowid: unknown }>(
    `update ${dataTable(state.id)} as t set ${set}
     from jsonb_to_recordset(${params.param(JSON.stringify(docs))}::jsonb) as x(${source.map((col) => `${col.name} ${col.pgType}`).join(', ')})
     where ${match} returning t._rowid`,
    params.values,
  ))
}

/** Computes an SQL-mode column in the statement, over the batch's _rowid range within its blocks, or its _rowids. */
async function writeSqlValues(tx: Queryable, state: TableState, plan: ComputedPlan, items: readonly BatchItem[], byAddress: boolean, columnName: string): Promise<Set<string>> {
  const params = new ParamList()
  const scope = new ColumnScope(state.md, (col) => `t.${valueColumn(col.id)}`)
  const set = `${valueColumn(plan.column.id)} = ${compileExpr(plan.expr, scope, params)}`
  const which = byAddress
    ? `t._rowid between ${params.param(Number(items[0]!.row._rowid))}::bigint and ${params.param(Number(items.at(-1)!.row._rowid))}::bigint${blockRange('t', items.map((x) => x.row._tid), params)}`
    : `t._rowid = any(${params.param(items.map((x) => Number(x.row._rowid)))}::bigint[])`
  // A value the expression fails on (onError 'abort') fails the job naming the column and the expression, as an
  // update does (the job's error was the store's raw text); named by the column the job computes, not its hidden one.
  const shown = { ...plan, column: { ...plan.column, name: columnName } }
  return rowIds(await tx.query<{ _rowid: unknown }>(`update ${dataTable(state.id)} as t set ${set} where t._v_max = ${MAX_VERSION} and ${which} returning t._rowid`, params.values)
    .catch(async (e: unknown) => Promise.reject(await sqlComputeError(e, state, [shown], undefined, JOB_FAILURE_FIX))))
}
