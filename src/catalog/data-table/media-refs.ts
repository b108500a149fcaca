import { dataTable } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { storedMediaColumns } from './compaction.ts'

// Which of some media store refs the tables under some paths hold: the lookup behind the write-side tenant boundary
// for store refs (src/media/ref-gate.ts; the server asks it for a scoped token's scopes).

/** Column scans one statement joins (a long union is still one plan, but a bounded one). */
const SCANS_PER_STATEMENT = 200

/**
 * Of `refs` (canonical, distinct), those held by a row version of a table or view whose path lies under one of `under`
 * (a table path, or a dir prefix; '' covers every path), in a media column of any schema the table had: current rows,
 * ended versions still retained, and written job batches, as media garbage collection counts them (collectStoreRefs).
 * Snapshots are left out: they read their base table's rows, which are looked at when the base is under `under`.
 * A fixed number of statements whatever the number of refs: the tables, their media columns (storedMediaColumns),
 * then one statement per 200 media columns matching every ref at once (a hash semi-join per column).
 * What it costs (PGlite, 2 shared cores under load): a scoped token's 10k-row insert copying 100 distinct refs of its
 * own, with 50k rows in its tables, took 180 ms (median of 6) against an admin's 146 ms; the lookup alone 26-58 ms, and
 * 73-165 ms for 10k distinct refs. It scans the readable tables' media columns (they have no index), so it grows with
 * the rows a token's tables hold; an index on media columns would be the next step if tenants hold millions of rows.
 */
export async function heldStoreRefs(db: Queryable, refs: readonly string[], under: readonly string[]): Promise<Set<string>> {
  const held = new Set<string>()
  if (refs.length === 0 || under.length === 0) return held
  const tables = await db.query<{ id: number }>(
    `select id from tessera.tables where kind <> 'snapshot' and ($2::boolean or exists (select 1 from unnest($1::text[]) u(prefix) where path = prefix or left(path, length(prefix) + 1) = prefix || '/')) order by id`,
    [under, under.includes('')])
  const ids = tables.rows.map((r) => Number(r.id))
  if (ids.length === 0) return held
  const scans = [...(await storedMediaColumns(db, ids))].flatMap(([tableId, cols]) =>
    cols.map((col) => `select ${col} as r from ${dataTable(tableId)} where ${col} in (select unnest($1::text[]))`))
  for (let i = 0; i < scans.length; i += SCANS_PER_STATEMENT) {
    const res = await db.query<{ r: string }>(`select distinct r from (${scans.slice(i, i + SCANS_PER_STATEMENT).join(' union all ')}) held`, [refs])
    for (const row of res.rows) held.add(row.r)
    if (held.size === refs.length) break
  }
  return held
}
