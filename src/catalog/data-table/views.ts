import { ColumnScope } from '../computed.ts'
import { compileExpr, dataTable, MAX_VERSION, ParamList, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import type { ViewMd } from '../metadata.ts'
import type { TableState } from '../state.ts'
import type { Row } from '../validate-rows.ts'

// View deltas: a view follows its base by version ranges. Base row versions that became current in (from, to] enter
// the view; those that stopped being current in (from, to] and existed at `from` leave it. Reading by version range
// keeps a base write in progress (its rows are under a version after `to`) out of the view.

/**
 * The base rows that entered between two base versions and are current at `to`, passing the view's filter: `_rid`
 * (the base _rowid) and each base column the view copies as "v<view column id>", in _rowid order.
 */
export async function readEnteringBaseRows(db: Queryable, base: TableState, view: ViewMd, from: number, to: number): Promise<Row[]> {
  const baseScope = new ColumnScope(base.md, (c) => `b.${valueColumn(c.id)}`)
  const params = new ParamList()
  const cols = view.baseColumns.map(([vid, bid]) => `b.${valueColumn(bid)} as "v${vid}"`)
  const where = [`b._v_min > ${Math.trunc(from)}`, `b._v_min <= ${Math.trunc(to)}`, `b._v_max > ${Math.trunc(to)}`]
  if (view.where) where.push(compileExpr(view.where, baseScope, params))
  const r = await db.query<Row>(`select b._rowid as "_rid", ${cols.join(', ')} from ${dataTable(base.id)} as b where ${where.join(' and ')} order by b._rowid`, params.values)
  return r.rows
}

/** The base rows (_rowid) whose version current at `from` ended in (from, to]: their view rows leave. */
const endedBaseRows = (baseId: number, from: number, to: number): string =>
  `(select b._rowid from ${dataTable(baseId)} as b where b._v_max > ${Math.trunc(from)} and b._v_max <= ${Math.trunc(to)} and b._v_min <= ${Math.trunc(from)})`

/** The current view rows whose base row version ended in (from, to] and existed at `from`, by row version address. */
export async function viewRowsOfEndedBaseRows(db: Queryable, viewId: number, baseRowIdColumn: string, baseId: number, from: number, to: number): Promise<string[]> {
  const r = await db.query<{ t: string }>(
    `select v.ctid::text as t from ${dataTable(viewId)} as v where v._v_max = ${MAX_VERSION} and v.${baseRowIdColumn} in ` +
    `${endedBaseRows(baseId, from, to)} order by v.ctid`,
  )
  return r.rows.map((x) => x.t)
}

/**
 * Ends (as of `version`) the view rows whose base row version ended in (from, to] and existed at `from`. Rows written
 * under `version` itself are the entering ones (a staged sync writes them first): they stay. Returns how many ended.
 */
export async function endRowsOfEndedBaseRows(tx: Queryable, viewId: number, baseRowIdColumn: string, baseId: number, from: number, to: number, version: number): Promise<number> {
  const ended = await tx.query(
    `update ${dataTable(viewId)} as v set _v_max = $1 where v._v_max = ${MAX_VERSION} and v._v_min < $1 and v.${baseRowIdColumn} in ` +
    endedBaseRows(baseId, from, to),
    [version],
  )
  return ended.affectedRows
}

/**
 * Fills the carried columns a view gains in a sync (`pairs`: view column id → base column id) for its current rows
 * from before `version`, in place (no version reads these data columns before it), from the base row version current
 * at `to`. Rows entering in the sync itself carry them already.
 */
export async function fillCarriedColumns(tx: Queryable, viewId: number, baseRowIdColumn: string, baseId: number, pairs: readonly (readonly [number, number])[], to: number, version: number): Promise<number> {
  if (pairs.length === 0) return 0
  const sets = pairs.map(([vid, bid]) => `${valueColumn(vid)} = b.${valueColumn(bid)}`).join(', ')
  const r = await tx.query(
    `update ${dataTable(viewId)} as v set ${sets} from ${dataTable(baseId)} as b where b._rowid = v.${baseRowIdColumn} ` +
    `and b._v_min <= ${Math.trunc(to)} and b._v_max > ${Math.trunc(to)} and v._v_max = ${MAX_VERSION} and v._v_min < $1`,
    [version],
  )
  return r.affectedRows
}
