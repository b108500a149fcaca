import { ColumnScope } from '../computed.ts'
import type { ComputedPlan } from '../computed.ts'
import { compileExpr, dataTable, errorMsgColumn, errorTypeColumn, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import type { CellError } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { parseType, pgType, toStoreJson } from '../../types/index.ts'
import type { TableState } from '../state.ts'
import { binaryArraySource, blockRange } from './rows.ts'

// Background jobs' statements (src/catalog/jobs.ts): a job computes a hidden column batch by batch in _rowid order,
// outside any transaction, and writes each batch in place into the current row versions it read.

/** How many current rows there are and the highest _rowid among them (what a new job will cover). */
export async function currentRowStats(db: Queryable, tableId: number): Promise<{ count: number; maxRowId: number }> {
  const r = await db.query<{ n: number; m: number | string | null }>(`select count(*)::int as n, max(_rowid)::bigint as m from ${dataTable(tableId)} where _v_max = ${MAX_VERSION}`)
  return { count: r.rows[0]!.n, maxRowId: Number(r.rows[0]!.m ?? 0) }
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
    `select t._rowid, t.ctid::text as _tid, ${inputsHash(state, plan, 't')} as _h${inputs.map((c) => `, t.${valueColumn(c.id)} as ${quoteIdent(c.name)}`).join('')} from ${dataTable(state.id)} as t
     where t._v_max = ${MAX_VERSION} and t._rowid > $1 and t._rowid <= $2 order by t._rowid limit $3`,
    [cursor, maxRowId, limit],
  )
  return { rows: r.rows }
}

/**
 * Writes a batch's values into the row versions it read, found by address within their blocks (a join on _rowid
 * would scan the table for every batch). A row updated or deleted since the read has a new or ended version there
 * and is skipped: an update recomputed it through its cascade. TypeScript values come in `ts` (aligned with rows);
 * an SQL-mode column is computed in the statement.
 */
export async function writeJobBatch(tx: Queryable, state: TableState, plan: ComputedPlan, rows: readonly JobBatchRow[], ts?: { values: unknown[]; errors: (CellError | null)[] }): Promise<void> {
  if (rows.length === 0) return
  const c = plan.column
  const params = new ParamList()
  const blocks = blockRange('t', rows.map((r) => r._tid), params)
  if (ts) {
    const type = parseType(c.type)
    const source = [{ name: '_rowid', pgType: 'bigint' }, { name: '_tid', pgType: 'text' }, { name: '_h', pgType: 'text' }, { name: 'v', pgType: pgType(type) }, { name: 'et', pgType: 'text' }, { name: 'em', pgType: 'text' }]
    const cells = (row: JobBatchRow, i: number): unknown[] => [row._rowid, row._tid, row._h, toStoreJson(type, ts.values[i]), ts.errors[i]?.errortype ?? null, ts.errors[i]?.errormsg ?? null]
    const set = `${valueColumn(c.id)} = x.v, ${errorTypeColumn(c.id)} = x.et, ${errorMsgColumn(c.id)} = x.em`
    const match = `t.ctid = x._tid::tid and t._rowid = x._rowid and t._v_max = ${MAX_VERSION} and ${inputsHash(state, plan, 't')} = x._h${blocks}`
    // Vectors (float arrays) in COPY's binary form on PGlite, as inserts send them (rows.ts binaryArraySource): as
    // jsonb text, PGlite parsed each float in ~3 µs, and a rebuild's batches held the store for hundreds of ms.
    const binary = tx.copyBinaryFrom ? binaryArraySource(source) : undefined
    const staged = binary?.payload(rows.length)
    if (binary && staged) {
      // The document keeps the cells that are not staged, with each row's place in the batch to join on.
      const docs = rows.map((row, i) => {
        const cell = cells(row, i)
        if (!staged.add(i, cell)) staged.abandon()
        return Object.fromEntries([[binary.ord, i], ...cell.flatMap((value, k) => (binary.staged.has(k) ? [] : [[source[k]!.name, value]]))])
      })
      if (staged.usable) {
        const sql = `update ${dataTable(state.id)} as t set ${set} from ${binary.from(params.values.length + 1)} where ${match}`
        await binary.withStaged(tx, staged.bytes(), () => tx.query(sql, [...params.values, JSON.stringify(docs)]))
        return
      }
    }
    const docs = rows.map((row, i) => Object.fromEntries(cells(row, i).map((value, k) => [source[k]!.name, value])))
    await tx.query(
      `update ${dataTable(state.id)} as t set ${set}
       from jsonb_to_recordset(${params.param(JSON.stringify(docs))}::jsonb) as x(${source.map((col) => `${col.name} ${col.pgType}`).join(', ')})
       where ${match}`,
      params.values,
    )
    return
  }
  const scope = new ColumnScope(state.md, (col) => `t.${valueColumn(col.id)}`)
  const set = `${valueColumn(c.id)} = ${compileExpr(plan.expr, scope, params)}`
  await tx.query(
    `update ${dataTable(state.id)} as t set ${set}
     where t._v_max = ${MAX_VERSION} and t._rowid between ${params.param(Number(rows[0]!._rowid))}::bigint and ${params.param(Number(rows.at(-1)!._rowid))}::bigint${blocks}`,
    params.values,
  )
}
