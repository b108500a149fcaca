import { dataTable, MAX_VERSION } from '../query/sql.ts'
import type { Driver, Queryable } from '../store/types.ts'

// Statements over the versioned data tables (tessera_data.t<id>) that move whole versions: undoing one (revert),
// discarding the rows of a write that never committed, and clearing what a killed write left behind.
// A row version is visible at version v when _v_min <= v < _v_max; the current ones have _v_max = MAX_VERSION.

/** Undoes version `version`: its rows disappear and the rows it ended are current again (revert). */
export async function undoVersion(tx: Queryable, tableId: number, version: number): Promise<void> {
  const t = dataTable(tableId)
  await tx.query(`delete from ${t} where _v_min = $1`, [version])
  await tx.query(`update ${t} set _v_max = ${MAX_VERSION} where _v_max = $1`, [version])
}

/** Deletes the rows a staged write wrote under `version` before it failed (they were never visible). */
export async function deleteRowsOfVersion(tx: Queryable, tableId: number, version: number): Promise<number> {
  const r = await tx.query(`delete from ${dataTable(tableId)} where _v_min = $1`, [version])
  return r.affectedRows
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
  readonly rows: number
}

/**
 * At open: removes what staged writes killed before their final step left behind, table by table (each in its own
 * short transaction). Nothing of it was ever visible; this only gives the space back and keeps `check` clean.
 */
export async function repairUncommittedWrites(db: Driver): Promise<Repair[]> {
  const tables = await db.query<{ id: number; path: string; version: number }>(`select id, path, version from tessera.tables where kind <> 'snapshot'`)
  const repairs: Repair[] = []
  for (const t of tables.rows) {
    const rows = await db.transaction((tx) => discardUncommitted(tx, Number(t.id), t.version))
    if (rows > 0) repairs.push({ table: t.path, rows })
  }
  return repairs
}
