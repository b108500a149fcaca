import { ColumnScope } from '../computed.ts'
import { compileExpr, dataTable, errorMsgColumn, errorTypeColumn, inlineUnstored, MAX_VERSION, ParamList, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import type { ColumnMd, ViewMd } from '../metadata.ts'
import { withUserExprs } from './user-exprs.ts'
import { readColumnsSql } from './rows.ts'
import type { TableState } from '../state.ts'
import type { Row } from '../validate-rows.ts'

// View deltas: a view follows its base by version ranges. Base row versions that became current in (from, to] enter
// the view; those that stopped being current in (from, to] and existed at `from` leave it. Reading by version range
// keeps a base write in progress (its rows are under a version after `to`) out of the view.
// A base revert that the view cannot mirror by popping its latest sync (that sync covered several base versions) is
// followed by an undoing delta instead: the base rows that sync touched (the view rows it wrote or ended) and the base
// rows that changed since the base version before it leave and, as current at `to`, enter again.

/** The base versions a view sync covers. */
export interface ViewDelta {
  /** The base version the view reflects before the sync (for an undoing delta: the one before its latest sync). */
  readonly from: number
  /** The base version it reflects after. */
  readonly to: number
  /** An undoing delta (a base revert): the view version of the sync whose base versions past `to` are gone. */
  readonly undoViewVersion?: number
  /** The view's data table and its _base_rowid column (read by an undoing delta). */
  readonly viewId: number
  readonly baseRowIdColumn: string
}

const int = (n: number) => Math.trunc(n)

/** The base rows (_rowid) whose view rows a delta replaces: a subquery. */
function changedBaseRows(baseId: number, d: ViewDelta): string {
  if (d.undoViewVersion === undefined) return endedBaseRows(baseId, d.from, d.to)
  // The view rows its latest sync wrote or ended, and the base rows that became current since `from` (a row that
  // entered the base in (from, to] and was ended only by the reverted version is current again, and enters).
  const v = int(d.undoViewVersion)
  return `(select v2.${d.baseRowIdColumn} from ${dataTable(d.viewId)} as v2 where v2._v_min = ${v} or v2._v_max = ${v} ` +
    `union select b2._rowid from ${dataTable(baseId)} as b2 where b2._v_min > ${int(d.from)} and b2._v_min <= ${int(d.to)})`
}

/** The condition on base rows `b` entering the view in a delta (current at `to` in any case). */
function enteringCondition(baseId: number, d: ViewDelta): string[] {
  const current = [`b._v_min <= ${int(d.to)}`, `b._v_max > ${int(d.to)}`]
  if (d.undoViewVersion === undefined) return [`b._v_min > ${int(d.from)}`, ...current]
  return [...current, `b._rowid in ${changedBaseRows(baseId, d)}`]
}

/**
 * The base rows that entered in a delta and are current at its `to`, passing the view's filter: `_rid` (the base
 * _rowid) and each base column the view copies as "v<view column id>", in _rowid order; for the view columns in
 * `withErrors` (carried with the base column's per-cell errors), its errortype and errormsg as "et<id>" and "em<id>".
 */
export async function readEnteringBaseRows(db: Queryable, base: TableState, view: ViewMd, delta: ViewDelta, withErrors: ReadonlySet<number> = new Set()): Promise<Row[]> {
  const baseScope = new ColumnScope(base.md, (c) => `b.${valueColumn(c.id)}`)
  const params = new ParamList()
  const cols = view.baseColumns.flatMap(([vid, bid]) => [
    `b.${valueColumn(bid)} as "v${vid}"`,
    ...(withErrors.has(vid) ? [`b.${errorTypeColumn(bid)} as "et${vid}"`, `b.${errorMsgColumn(bid)} as "em${vid}"`] : []),
  ])
  const where = enteringCondition(base.id, delta)
  // A base column computed when read (stored: false) has no data column: the filter reads its definition, as the
  // base's own queries do (it compiled to a column that does not exist, a store error on the view's first sync).
  const filter = view.where && inlineUnstored(view.where, [{ path: base.path, tableId: base.id, md: base.md, version: undefined }])
  if (filter) where.push(compileExpr(filter, baseScope, params))
  const r = await withUserExprs(base.path, [view.where], () => db.query<Row>(`select b._rowid as "_rid", ${cols.join(', ')} from ${dataTable(base.id)} as b where ${where.join(' and ')} order by b._rowid`, params.values))
  return r.rows
}

/** The base rows (_rowid) whose version current at `from` ended in (from, to]: their view rows leave. */
const endedBaseRows = (baseId: number, from: number, to: number): string =>
  `(select b._rowid from ${dataTable(baseId)} as b where b._v_max > ${int(from)} and b._v_max <= ${int(to)} and b._v_min <= ${int(from)})`

/** The current view rows that leave in a delta, by row version address. */
export async function viewRowsOfEndedBaseRows(db: Queryable, baseId: number, delta: ViewDelta): Promise<string[]> {
  const r = await db.query<{ t: string }>(
    `select v.ctid::text as t from ${dataTable(delta.viewId)} as v where v._v_max = ${MAX_VERSION} and v.${delta.baseRowIdColumn} in ` +
    `${changedBaseRows(baseId, delta)} order by v.ctid`,
  )
  return r.rows.map((x) => x.t)
}

/**
 * The current view rows that leave in a delta, with `_rowid` and `columns` by name (a computed column with its stored
 * error, readColumnsSql): a row that enters again from the same base row keeps its _rowid, and its computed values
 * where their inputs are unchanged.
 */
export async function readLeavingViewRows(db: Queryable, baseId: number, delta: ViewDelta, columns: readonly ColumnMd[]): Promise<Row[]> {
  const cols = ['v._rowid as "_rowid"', ...readColumnsSql('v', columns)]
  const r = await db.query<Row>(
    `select ${cols.join(', ')} from ${dataTable(delta.viewId)} as v where v._v_max = ${MAX_VERSION} and v.${delta.baseRowIdColumn} in ${changedBaseRows(baseId, delta)}`,
  )
  return r.rows
}

/**
 * Ends (as of `version`) the view rows that leave in a delta. Rows written under `version` itself are the entering
 * ones (a staged sync writes them first): they stay. Returns how many ended.
 */
export async function endRowsOfEndedBaseRows(tx: Queryable, baseId: number, delta: ViewDelta, version: number): Promise<number> {
  const ended = await tx.query(
    `update ${dataTable(delta.viewId)} as v set _v_max = $1 where v._v_max = ${MAX_VERSION} and v._v_min < $1 and v.${delta.baseRowIdColumn} in ` +
    changedBaseRows(baseId, delta),
    [version],
  )
  return ended.affectedRows
}

/**
 * Fills the carried columns a view gains in a sync (`pairs`: view column id → base column id) for its current rows
 * from before `version`, in place (no version reads these data columns before it), from the base row version current
 * at `to`, with their per-cell errors for the view columns in `withErrors`. Rows entering in the sync itself carry
 * them already.
 */
export async function fillCarriedColumns(tx: Queryable, viewId: number, baseRowIdColumn: string, baseId: number, pairs: readonly (readonly [number, number])[], to: number, version: number, withErrors: ReadonlySet<number> = new Set()): Promise<number> {
  if (pairs.length === 0) return 0
  const sets = pairs.flatMap(([vid, bid]) => [
    `${valueColumn(vid)} = b.${valueColumn(bid)}`,
    ...(withErrors.has(vid) ? [`${errorTypeColumn(vid)} = b.${errorTypeColumn(bid)}`, `${errorMsgColumn(vid)} = b.${errorMsgColumn(bid)}`] : []),
  ]).join(', ')
  const r = await tx.query(
    `update ${dataTable(viewId)} as v set ${sets} from ${dataTable(baseId)} as b where b._rowid = v.${baseRowIdColumn} ` +
    `and b._v_min <= ${Math.trunc(to)} and b._v_max > ${Math.trunc(to)} and v._v_max = ${MAX_VERSION} and v._v_min < $1`,
    [version],
  )
  return r.affectedRows
}
