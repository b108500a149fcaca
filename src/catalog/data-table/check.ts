import { compileExpr, DATA_SCHEMA, dataTable, errorTypeColumn, MAX_VERSION, ParamList, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { ColumnScope } from '../computed.ts'
import type { ViewMd } from '../metadata.ts'
import type { TableState } from '../state.ts'
import { withUserExprs } from './user-exprs.ts'

// The statements `tessera check` runs over a data table (src/catalog/check.ts decides what is a problem).

/** The data table's physical column names; none when the table is missing. */
export async function dataColumnNames(db: Queryable, tableId: number): Promise<string[]> {
  const r = await db.query<{ name: string }>(`select column_name as name from information_schema.columns where table_schema = '${DATA_SCHEMA}' and table_name = $1`, [`t${tableId}`])
  return r.rows.map((c) => c.name)
}

/** Row versions outside versions 0..version: made by a later version, ended before they began, or ended later. */
export async function countRowVersionsOutside(db: Queryable, tableId: number, version: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(tableId)} where _v_min > $1 or _v_max <= _v_min or (_v_max <> ${MAX_VERSION} and _v_max > $1)`, [version])
  return r.rows[0]!.n
}

/** Primary keys that more than one current row has. */
export async function countDuplicateKeys(db: Queryable, tableId: number, keyColumnIds: readonly number[]): Promise<number> {
  const key = keyColumnIds.map((id) => valueColumn(id)).join(', ')
  const r = await db.query<{ n: number }>(`select count(*)::int as n from (select ${key} from ${dataTable(tableId)} where _v_max = ${MAX_VERSION} group by ${key} having count(*) > 1) d`)
  return r.rows[0]!.n
}

/** The names of the Postgres indexes on the data table. */
export async function physicalIndexNames(db: Queryable, tableId: number): Promise<string[]> {
  const r = await db.query<{ name: string }>(`select indexname as name from pg_indexes where schemaname = '${DATA_SCHEMA}' and tablename = $1`, [`t${tableId}`])
  return r.rows.map((x) => x.name)
}

/** Current rows with an input value but neither a vector nor an error for it (an index that is not whole). */
export async function countRowsWithoutVector(db: Queryable, tableId: number, columnId: number, valueColumnId: number): Promise<number> {
  const r = await db.query<{ n: number }>(
    `select count(*)::int as n from ${dataTable(tableId)} where _v_max = ${MAX_VERSION} and ${valueColumn(columnId)} is not null and ${valueColumn(valueColumnId)} is null and ${errorTypeColumn(valueColumnId)} is null`)
  return r.rows[0]!.n
}

/** How a view's rows differ from the base rows it should hold (compareViewRows). */
export interface ViewRowsComparison {
  /** Base rows passing the filter with no view row (not counted for an iterator view: a row may yield nothing). */
  readonly missing: number
  /** View rows whose base row is not current at the version the view reflects, or fails its filter. */
  readonly extra: number
  /** Base rows with more than one view row (a view without an iterator holds one row per base row). */
  readonly duplicated: number
  /** View rows whose carried columns differ from their base row's values. */
  readonly differing: number
}

/**
 * A view's committed current rows (at view version `viewVersion`) against the base rows current at `baseVersion`
 * (the version it reflects) that pass its filter, joined by the view's _base_rowid column `baseRowIdColumn`.
 */
export async function compareViewRows(db: Queryable, base: TableState, baseVersion: number, viewId: number, viewVersion: number, view: ViewMd, baseRowIdColumn: string): Promise<ViewRowsComparison> {
  const params = new ParamList()
  const where = [`b._v_min <= ${Math.trunc(baseVersion)}`, `b._v_max > ${Math.trunc(baseVersion)}`]
  if (view.where) where.push(compileExpr(view.where, new ColumnScope(base.md, (c) => `b.${valueColumn(c.id)}`), params))
  const carried = view.baseColumns
  const b = `select b._rowid as rid${carried.map(([vid, bid]) => `, b.${valueColumn(bid)} as c${vid}`).join('')} from ${dataTable(base.id)} as b where ${where.join(' and ')}`
  const v = `select v.${baseRowIdColumn} as rid${carried.map(([vid]) => `, v.${valueColumn(vid)} as c${vid}`).join('')} from ${dataTable(viewId)} as v where v._v_min <= ${Math.trunc(viewVersion)} and v._v_max > ${Math.trunc(viewVersion)}`
  const differs = carried.length === 0 ? 'false' : `(${carried.map(([vid]) => `v.c${vid}`).join(', ')}) is distinct from (${carried.map(([vid]) => `b.c${vid}`).join(', ')})`
  const sql = `with b as (${b}), v as (${v}) select ` +
    `${view.iterator ? '0' : '(select count(*) from b where not exists (select 1 from v where v.rid = b.rid))'}::int as missing, ` +
    `(select count(*) from v where not exists (select 1 from b where b.rid = v.rid))::int as extra, ` +
    `${view.iterator ? '0' : '(select count(*) from (select rid from v group by rid having count(*) > 1) d)'}::int as duplicated, ` +
    `(select count(*) from v join b on b.rid = v.rid where ${differs})::int as differing`
  const r = await withUserExprs(base.path, [view.where], () => db.query<ViewRowsComparison>(sql, params.values))
  return r.rows[0]!
}
