import { dataTable, STATISTICS_SAMPLE_TARGET, STATISTICS_TYPE_CATEGORIES } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'

// Column statistics of the data tables (the planner's row estimates, which the server's join bound relies on:
// src/query/work-bound.ts). A server store's autovacuum keeps them; PGlite runs no autovacuum, so src/catalog/
// auto-analyze.ts runs this after the writes that changed enough rows.

/**
 * ANALYZE of one data table, bounded so that it holds the store no longer than a write step or two whatever the
 * table: of its scalar columns only (STATISTICS_TYPE_CATEGORIES: arrays and vectors are left out), from a sample of
 * 300 x STATISTICS_SAMPLE_TARGET = 3,000 rows. Measured on PGlite (a shared 2-core machine, load 2-7, 2-3 runs each):
 *   - as here, 3 int/string columns: 22-24 ms at 100k rows, 71-79 ms at 1M rows (the sample's random blocks);
 *   - 100k rows with a 384-float array column (196 MB): every column at the default target (30,000 rows) 7.0-10.4 s
 *     (the array's element statistics: a store held that long is a hang), the scalar columns at the default target
 *     400-430 ms, at target 30 260-370 ms, at 10 37-64 ms;
 *   - every column at the default target, 3 int/string columns: 40-150 ms at 100k rows, 83-130 ms at 1M rows.
 * 3,000 rows find what the join bound needs (a join column's few values repeated: n_distinct 1 or 3; its keys
 * unique: -1, as at 30,000) and the ten most common values. It may run inside a transaction (unlike VACUUM).
 * Returns the rows the planner now counts.
 */
export async function analyzeDataTable(tx: Queryable, tableId: number): Promise<number> {
  const table = dataTable(tableId)
  const cols = await tx.query<{ name: string }>(
    `select quote_ident(a.attname) as name from pg_attribute a join pg_type ty on ty.oid = a.atttypid
     where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped and ty.typcategory = any($2::"char"[]) order by a.attnum`,
    [table, [...STATISTICS_TYPE_CATEGORIES]],
  )
  if (cols.rows.length === 0) return 0
  await tx.query(`set local default_statistics_target = ${STATISTICS_SAMPLE_TARGET}`)
  await tx.query(`analyze ${table} (${cols.rows.map((c) => c.name).join(', ')})`)
  const r = await tx.query<{ n: number | string | null }>(`select reltuples::float8 as n from pg_class where oid = to_regclass($1)`, [table])
  return Math.max(0, Number(r.rows[0]?.n ?? 0))
}
