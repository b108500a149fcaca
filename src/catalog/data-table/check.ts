import { DATA_SCHEMA, dataTable, errorTypeColumn, MAX_VERSION, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'

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
