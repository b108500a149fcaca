import { dataTable, MAX_VERSION } from '../../query/index.ts'
import { dropDataColumnsWhere } from './layout.ts'
import type { Driver, Queryable } from '../../store/index.ts'

// Statements over the versioned data tables (tessera_data.t<id>) that move whole versions: undoing one (revert),
// discarding the rows of a write that never committed, and clearing what a killed write left behind.
// A row version is visible at version v when _v_min <= v < _v_max; the current ones have _v_max = MAX_VERSION.

/** The kind of a table's latest version ('sync' for a view following its base), from the catalog's history. */
export async function latestVersionKind(db: Queryable, tableId: number): Promise<string | undefined> {
  const r = await db.query<{ kind: string }>(`select kind from tessera.versions where table_id = $1 order by version desc limit 1`, [tableId])
  return r.rows[0]?.kind
}

/**
 * What tells one commit of a version from another that took its number after a revert (its commit time, to the
 * microsecond, as text); undefined when the table has no such version.
 */
export async function versionStamp(db: Queryable, tableId: number, version: number): Promise<string | undefined> {
  const r = await db.query<{ s: string }>(`select created_at::text as s from tessera.versions where table_id = $1 and version = $2`, [tableId, version])
  return r.rows[0]?.s
}

/** Undoes version `version`: its rows disappear and the rows it ended are current again (revert). */
export async function undoVersion(tx: Queryable, tableId: number, version: number): Promise<void> {
  const t = dataTable(tableId)
  await tx.query(`delete from ${t} where _v_min = $1`, [version])
  await tx.query(`update ${t} set _v_max = ${MAX_VERSION} where _v_max = $1`, [version])
}

/**
 * Holds the table's catalog row against a drop until the transaction ends (dropTable locks the row FOR UPDATE before
 * it drops the data table; FOR KEY SHARE leaves the table's own commits free); false when the table is gone. Work
 * that runs on after a commit, in steps of its own (a staged revert's cleanup), checks this in every step: a table
 * dropped between two steps has nothing left to clean, and its data table is gone.
 */
export async function holdTableRow(tx: Queryable, tableId: number): Promise<boolean> {
  const r = await tx.query(`select 1 from tessera.tables where id = $1 for key share`, [tableId])
  return r.rows.length > 0
}

/**
 * One step of undoing a version that is no longer committed (a staged revert popped it): up to `limit` of its rows
 * are removed, and once none is left, up to `limit` of the rows it ended are current again (in that order: a row's
 * key may not be current twice). Returns the row versions changed; 0 when the version is gone.
 */
export async function undoVersionStep(tx: Queryable, tableId: number, version: number, limit: number): Promise<number> {
  const t = dataTable(tableId)
  // The version as a literal: the planner then proves `_v_max = v` implies the _v_max index's `_v_max <> MAX`.
  const v = Math.trunc(version)
  const removed = await tx.query(`delete from ${t} where ctid = any(array(select ctid from ${t} where _v_min = ${v} limit $1))`, [limit])
  if (removed.affectedRows > 0) return removed.affectedRows
  const reopened = await tx.query(`update ${t} set _v_max = ${MAX_VERSION} where ctid = any(array(select ctid from ${t} where _v_max = ${v} limit $1))`, [limit])
  return reopened.affectedRows
}

/**
 * Removes row versions newer than the committed version `version` (a staged write killed before its final step)
 * and re-opens rows such a write had ended. Returns how many row versions were repaired.
 */
export async function discardUncommitted(tx: Queryable, tableId: number, version: number): Promise<number> {
  const t = dataTable(tableId)
  const removed = await tx.query(`delete from ${t} where _v_min > $1`, [version])
  const reopened = await tx.query(`update ${t} set _v_max = ${MAX_VERSION} where _v_max <> ${MAX_VERSION} and _v_max > $1`, [version])
  return removed.affectedRows + reopened.affectedRows
}


export interface Repair {
  readonly table: string
  /** Row versions of writes that never committed, removed. */
  readonly rows: number
  /** Data columns of a backfill that never committed, dropped. */
  readonly columns?: readonly string[]
}

/**
 * At open: removes what staged writes killed before their final step left behind, table by table (each in its own
 * short transaction). Nothing of it was ever visible; this only gives the space back and keeps `check` clean.
 */
export async function repairUncommittedWrites(db: Driver): Promise<Repair[]> {
  const tables = await db.query<{ id: number; path: string; version: number; next: number }>(`select id, path, version, (md->>'nextColumnId')::int as next from tessera.tables where kind <> 'snapshot'`)
  const repairs: Repair[] = []
  for (const t of tables.rows) {
    const rows = await db.transaction((tx) => discardUncommitted(tx, Number(t.id), t.version))
    const columns = await db.transaction((tx) => dropUncommittedColumns(tx, Number(t.id), t.next))
    if (rows > 0 || columns.length > 0) repairs.push({ table: t.path, rows, ...(columns.length > 0 ? { columns } : {}) })
  }
  return repairs
}

/**
 * Data columns of ids no committed schema has handed out yet (>= nextColumnId): a backfill killed between its steps
 * and its final step made them. No version reads them; a later column of that id would collide with them.
 */
async function dropUncommittedColumns(tx: Queryable, tableId: number, nextColumnId: number): Promise<string[]> {
  return dropDataColumnsWhere(tx, tableId, (columnId) => columnId >= nextColumnId)
}
