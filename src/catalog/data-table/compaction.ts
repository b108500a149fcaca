import { dataTable, DATA_SCHEMA, MAX_VERSION, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { dropDataColumnsWhere } from './layout.ts'
import { isMedia, parseType } from '../../types/index.ts'
import type { TableMd } from '../metadata.ts'
import type { RetainedVersions } from '../retention.ts'

// The SQL compaction and media collection run over the data tables (tessera_data.t<id>), in one place. A row version
// [_v_min, _v_max) is needed while some retained version v has _v_min <= v < _v_max; current rows always are.

/**
 * Row versions no retained version can see: ended at or before `oldest`, and visible at no kept version; `oldest`
 * and `kept` are parameters $first and $first+1.
 */
function unseenPredicate(first = 1): string {
  return `_v_max <> ${MAX_VERSION} and _v_max <= $${first} and not exists (select 1 from unnest($${first + 1}::integer[]) as k(v) where _v_min <= k.v and _v_max > k.v)`
}

/** Deletes up to `limit` unseen row versions (one short statement); returns how many went. */
export async function deleteUnseenBatch(tx: Queryable, tableId: number, r: RetainedVersions, limit: number): Promise<number> {
  const t = dataTable(tableId)
  const res = await tx.query(
    `delete from ${t} where ctid = any(array(select ctid from ${t} where ${unseenPredicate()} limit $3))`,
    [r.oldest, [...r.kept], Math.max(1, Math.trunc(limit))],
  )
  return res.affectedRows
}

/** How many row versions compaction would remove (dry runs). */
export async function countUnseen(db: Queryable, tableId: number, r: RetainedVersions): Promise<number> {
  const res = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(tableId)} where ${unseenPredicate()}`, [r.oldest, [...r.kept]])
  return res.rows[0]!.n
}

export async function countRowVersions(db: Queryable, tableId: number): Promise<number> {
  const res = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(tableId)}`)
  return res.rows[0]!.n
}

/** Bytes of a data table with its indexes and TOAST. */
export async function tableBytes(db: Queryable, tableId: number): Promise<number> {
  const res = await db.query<{ n: string | number | null }>(`select pg_total_relation_size(to_regclass($1)) as n`, [`${DATA_SCHEMA}.t${tableId}`])
  return Number(res.rows[0]?.n ?? 0)
}

/**
 * VACUUM cannot run inside a transaction. Plain VACUUM makes the space of removed rows reusable (files keep their
 * size, later writes fill the holes); VACUUM FULL rewrites the table and its indexes into new files, returning the
 * space to the file system, but holds the table exclusively while it copies.
 */
export async function vacuumTable(db: Queryable, tableId: number, full: boolean): Promise<void> {
  await db.exec(`vacuum ${full ? '(full) ' : ''}${dataTable(tableId)}`)
}

/** Lets the store recycle write-ahead log segments a rewrite produced (PGlite keeps its WAL in the data dir). */
export async function checkpoint(db: Queryable): Promise<void> {
  await db.exec('checkpoint')
}

/**
 * Drops physical columns no retained version's schema has (columns dropped, or added and reverted, whose values
 * only compacted versions could read). Returns the dropped column names (dryRun: those it would drop).
 */
export async function dropUnreadColumns(tx: Queryable, tableId: number, readable: ReadonlySet<number>, dryRun = false): Promise<string[]> {
  return dropDataColumnsWhere(tx, tableId, (columnId) => !readable.has(columnId), dryRun)
}

/** Column ids of the schemas of the retained versions (the current one included). */
export async function readableColumnIds(db: Queryable, tableId: number, r: RetainedVersions, currentMd: TableMd): Promise<Set<number>> {
  const ids = new Set(currentMd.columns.map((c) => c.id))
  const res = await db.query<{ id: number }>(
    `select distinct (c->>'id')::int as id from tessera.versions v, jsonb_array_elements(v.md->'columns') c where v.table_id = $1 and (v.version >= $2 or v.version = any($3::integer[]))`,
    [tableId, r.oldest, [...r.kept]],
  )
  for (const row of res.rows) ids.add(Number(row.id))
  return ids
}

/** What a compaction would remove from a table, not yet removed (a dry run): its unseen row versions and columns. */
export interface PendingRemoval {
  readonly retained: RetainedVersions
  /** Physical columns it would drop (dropUnreadColumns' names). */
  readonly columns: readonly string[]
}

/**
 * Every store reference (refs starting with one of `prefixes`, e.g. 'media://') held by any row version of any data
 * table, in media-typed columns of any schema the table ever had. What compaction removed is no longer here, so this
 * is exactly what retained versions, snapshots (they read their base's rows) and written job batches refer to.
 * `pending` (a dry run's plans, by table id): the refs only the row versions and columns it would remove hold are
 * left out, as the real run would leave them.
 */
export async function collectStoreRefs(db: Queryable, prefixes: readonly string[], pending?: ReadonlyMap<number, PendingRemoval>): Promise<Set<string>> {
  const refs = new Set<string>()
  if (prefixes.length === 0) return refs
  const tables = await db.query<{ id: number }>(`select id from tessera.tables where kind <> 'snapshot' order by id`)
  const media = await storedMediaColumns(db, tables.rows.map((t) => Number(t.id)))
  for (const [tableId, cols] of media) {
    const removal = pending?.get(tableId)
    for (const col of cols.filter((n) => !removal?.columns.includes(n))) {
      const like = prefixes.map((_, i) => `${col} like $${i + 1}`).join(' or ')
      const params: unknown[] = prefixes.map((p) => `${p.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`)
      const kept = removal ? ` and not (${unseenPredicate(params.length + 1)})` : ''
      if (removal) params.push(removal.retained.oldest, [...removal.retained.kept])
      const res = await db.query<{ r: string }>(`select distinct ${col} as r from ${dataTable(tableId)} where (${like})${kept}`, params)
      for (const row of res.rows) refs.add(row.r)
    }
  }
  return refs
}

/**
 * Per table of `tableIds` (in that order), the data columns that hold media values in any schema the table ever had
 * and still exist physically: where store refs can be. A fixed number of statements, whatever the number of tables.
 */
export async function storedMediaColumns(db: Queryable, tableIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(tableIds.map((id) => [id, []]))
  if (tableIds.length === 0) return out
  const cols = await db.query<{ t: number; id: number; type: string }>(
    `select distinct v.table_id as t, (c->>'id')::int as id, c->>'type' as type from tessera.versions v, jsonb_array_elements(v.md->'columns') c where v.table_id = any($1::bigint[])`, [tableIds])
  const physical = await db.query<{ t: string; c: string }>(
    `select table_name as t, column_name as c from information_schema.columns where table_schema = '${DATA_SCHEMA}' and table_name = any($1::text[])`, [tableIds.map((id) => `t${id}`)])
  const present = new Set(physical.rows.map((r) => `${r.t}.${r.c}`))
  for (const c of cols.rows) {
    const tableId = Number(c.t)
    const col = valueColumn(Number(c.id))
    const list = out.get(tableId)
    if (list && isMediaType(c.type) && present.has(`t${tableId}.${col}`) && !list.includes(col)) list.push(col)
  }
  return out
}

/** Whether a column type read from stored metadata is a media type (an unreadable one is not). */
function isMediaType(type: string): boolean {
  try {
    return isMedia(parseType(type))
  } catch {
    return false
  }
}
