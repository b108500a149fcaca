import type { Queryable } from '../../store/index.ts'
import { indexStatements } from '../statements.ts'
import type { ColumnValuesPage, VectorPage } from '../statements.ts'

// What the native index needs from the store: its vectors by row in _rowid pages, the rows ended in a range of
// versions and a count (statements over the data table, written in the catalog's data-table layer:
// src/catalog/data-table/indexes.ts), and the stamp (commit time) of a version, which tells a version that was
// reverted and written again from the one the index saw.

export type { VectorPage }

/** Rows a page of vectors holds: ~256k floats (~1 MB as base64), a read of a few tens of ms in PGlite. */
export const vectorPageRows = (dims: number): number => Math.max(64, Math.min(8192, Math.floor(262_144 / Math.max(dims, 1))))

/**
 * Current rows whose vector was written in versions (after, upTo], after `afterRowId`, in _rowid order; `after` = -1
 * reads every current row written up to upTo. Rows changed since upTo are the next catch-up's: the native index only
 * serves reads of the current version.
 */
export const readVectors = (db: Queryable, tableId: number, valueColumnId: number, dims: number, range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<VectorPage> =>
  indexStatements().readVectors(db, tableId, valueColumnId, dims, range, afterRowId, limit)

/** Values of some columns of the current rows written in versions (after, upTo], by _rowid pages (column-copies.ts). */
export const readColumnValues = (db: Queryable, tableId: number, columnIds: readonly number[], range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<ColumnValuesPage> =>
  indexStatements().readColumnValues(db, tableId, columnIds, range, afterRowId, limit)

/**
 * Rows that stopped being current in versions (after, upTo] and have no current version now (deleted, not updated):
 * their keys leave the native index, so candidates are live rows.
 */
export const rowsEnded = (db: Queryable, tableId: number, after: number, upTo: number): Promise<BigUint64Array> => indexStatements().rowsEnded(db, tableId, after, upTo)

/**
 * Current rows written in versions (after, upTo] without a vector (updated to null): their keys leave the native
 * index too, as an update keeps the row's key and rowsEnded leaves it out.
 */
export const rowsWithoutVector = (db: Queryable, tableId: number, valueColumnId: number, after: number, upTo: number): Promise<BigUint64Array> =>
  indexStatements().rowsWithoutVector(db, tableId, valueColumnId, after, upTo)

/** Current rows with a vector written up to `version` (what a complete index of that version holds). */
export const countVectors = (db: Queryable, tableId: number, valueColumnId: number, version: number): Promise<number> =>
  indexStatements().countVectors(db, tableId, valueColumnId, version)

/** The b-tree the query's candidate predicate (_rowid = any(...)) probes; created with an index on the embedded store. */
export const createRowIdIndex = (tx: Queryable, tableId: number): Promise<void> => indexStatements().createRowIdIndex(tx, tableId)

/** The commit time of a table version as text, or undefined when that version does not exist (the catalog's own, as streams use it). */
export const versionStamp = (db: Queryable, tableId: number, version: number): Promise<string | undefined> => indexStatements().versionStamp(db, tableId, version)

export async function currentVersion(db: Queryable, tableId: number): Promise<number | undefined> {
  const r = await db.query<{ version: number }>(`select version from tessera.tables where id = $1`, [tableId])
  return r.rows[0]?.version
}

/** How many current rows were written after version `after`, counted up to `cap` (the _v_min index answers). */
export const countNewerRows = (db: Queryable, tableId: number, after: number, cap: number): Promise<number> => indexStatements().countNewerRows(db, tableId, after, cap)

/** How many 8 kB blocks the table's heap holds: what a block-paged exact search walks over (exact.ts). */
export const tableBlocks = (db: Queryable, tableId: number): Promise<number> => indexStatements().tableBlocks(db, tableId)

// The embedded store's connection carries this setting while a native index manager is attached to it, so code that
// only gets a transaction (index creation, check) knows to leave pgvector's HNSW out on that store.
const MARK = 'tessera.native_ann'
export const markNative = (db: Queryable): Promise<void> => db.exec(`set ${MARK} = 'on'`)
export async function isNative(db: Queryable): Promise<boolean> {
  const r = await db.query<{ on: string | null }>(`select current_setting('${MARK}', true) as on`)
  return r.rows[0]?.on === 'on'
}
