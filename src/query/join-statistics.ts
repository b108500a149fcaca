import type { Queryable } from '../store/index.ts'
import { isCol, someNode } from './nodes/index.ts'
import type { QuerySpec } from './spec.ts'
import { DATA_SCHEMA, dataTable, valueColumn } from './sql.ts'

// Whether the planner can estimate a query's equality joins: with no column statistics (pg_stats has no row for
// the join column: a table never analyzed, or a column added since its last ANALYZE) PostgreSQL takes a default
// selectivity (1/200 of the pairs, DEFAULT_EQ_SEL), and a join on a column with one value repeated (two 50,000-row
// tables: 2.5e9 rows) was estimated at 12.5 million, under the server's join bound, and ran for minutes.
//
// Two ways to bound such a join were weighed. A bound free of selectivity (the product of the tables' rows) refuses
// every join of two 50,000-row tables, a key join included; an exact one (the sum over join values of the product of
// their counts) is a GROUP BY of each table, a full scan per request. ANALYZE instead samples 3,000 rows of the scalar
// columns: 22-79 ms once per table (PGlite, 100k to 1M rows: catalog/data-table/statistics.ts), after which the
// planner's estimate holds (the repro is then estimated at 2.5e9 and refused). So the bound runs ANALYZE first on the tables
// this finds lacking, through the catalog's auto-analyze (catalog/auto-analyze.ts), which skips a table it analyzed
// with no change since (an empty table has no statistics to find) and joins the ANALYZE already queued.

/**
 * Type categories (pg_type.typcategory) of the columns the store's ANALYZE covers (catalog/data-table/statistics.ts):
 * numbers, strings, booleans, dates and times, intervals. Arrays (a vector column's element statistics made ANALYZE
 * of a 100k-row table hold the store 7-10 s) and other types are left out, and not looked for here.
 */
export const STATISTICS_TYPE_CATEGORIES: readonly string[] = ['N', 'S', 'B', 'D', 'T']
/** default_statistics_target of the store's ANALYZE: a sample of 300 x 10 rows (statistics.ts has the figures). */
export const STATISTICS_SAMPLE_TARGET = 10

/**
 * The data tables (by table id) of the query's sources that lack statistics for a column its join conditions name.
 * Columns are matched by name in every source (a condition's qualifier is not resolved): a table analyzed one column
 * too many costs an ANALYZE, one missed would let a join through on a default guess. One catalog query.
 */
export async function tablesLackingJoinStatistics(db: Queryable, spec: QuerySpec): Promise<Set<number>> {
  const names = new Set<string>()
  for (const join of spec.joins) {
    if (join.on) someNode(join.on, (n) => (isCol(n) && names.add(n.col), false))
  }
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  const wanted = new Map<number, Set<string>>()
  for (const s of sources) {
    const columns = s.md.columns.filter((c) => names.has(c.name)).map((c) => valueColumn(c.id))
    if (columns.length > 0) wanted.set(s.tableId, new Set([...(wanted.get(s.tableId) ?? []), ...columns]))
  }
  const lacking = new Set<number>()
  if (wanted.size === 0) return lacking
  const ids = [...wanted.keys()]
  // Only columns the table has, of the types ANALYZE covers (no other has statistics to gain). PGlite's one role is a
  // superuser and reads the catalog (0.5 ms a query; the pg_stats view, with its privilege checks, 1.3-2 ms, beside a
  // bounded key join's 6 ms in all); a server's role may not read pg_statistic, only the view.
  const hasStats = (db as { kind?: string }).kind === 'pglite'
    ? `select 1 from pg_statistic s where s.starelid = a.attrelid and s.staattnum = a.attnum`
    : `select 1 from pg_stats s where s.schemaname = '${DATA_SCHEMA}' and s.tablename = 't' || w.id and s.attname = a.attname`
  const r = await db.query<{ id: number; attname: string }>(
    `select w.id, a.attname from unnest($1::int[], $2::text[]) as w(id, rel)
     join pg_attribute a on a.attrelid = to_regclass(w.rel) and a.attnum > 0 and not a.attisdropped
     join pg_type ty on ty.oid = a.atttypid
     where a.attname = any($3::text[]) and ty.typcategory = any($4::"char"[]) and not exists (${hasStats})`,
    [ids, ids.map((id) => dataTable(id)), [...new Set([...wanted.values()].flatMap((c) => [...c]))], [...STATISTICS_TYPE_CATEGORIES]],
  )
  for (const row of r.rows) if (wanted.get(Number(row.id))?.has(row.attname)) lacking.add(Number(row.id))
  return lacking
}

/** ANALYZE of each table, for a caller with no catalog to run it through (a bare executor). */
export async function analyzeTables(db: Queryable, tableIds: Iterable<number>): Promise<void> {
  for (const id of tableIds) await db.query(`analyze ${dataTable(id)}`)
}
