import type { Queryable } from '../store/index.ts'

// The statements over the data tables this folder needs, written in the catalog's data-table layer
// (src/catalog/data-table/indexes.ts, where every statement over tessera_data.t<id> lives) and handed in by the
// catalog when it loads: the catalog imports this folder, so importing it back would make a cycle.

/** A page of vectors read for the native index: keys (_rowid) and their vectors, row-major. */
export interface VectorPage {
  readonly keys: BigUint64Array
  readonly vectors: Float32Array
  /** The last _rowid read, or -1 when this was the last page. */
  readonly lastRowId: number
}

/** A page of column values read for the native index's filters: keys (_rowid) and each row's values, in order. */
export interface ColumnValuesPage {
  readonly keys: readonly number[]
  readonly values: readonly (readonly unknown[])[]
  /** The last _rowid read, or -1 when this was the last page. */
  readonly lastRowId: number
}

export interface IndexStatements {
  createCurrentRowsIndex(tx: Queryable, tableId: number, name: string, using: 'hnsw' | 'gin', expression: string, withSql?: string): Promise<void>
  createRowIdIndex(tx: Queryable, tableId: number): Promise<void>
  readVectors(db: Queryable, tableId: number, valueColumnId: number, dims: number, range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<VectorPage>
  readColumnValues(db: Queryable, tableId: number, columnIds: readonly number[], range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<ColumnValuesPage>
  rowsEnded(db: Queryable, tableId: number, after: number, upTo: number): Promise<BigUint64Array>
  rowsWithoutVector(db: Queryable, tableId: number, valueColumnId: number, after: number, upTo: number): Promise<BigUint64Array>
  countVectors(db: Queryable, tableId: number, valueColumnId: number, version: number): Promise<number>
  rowIdsWrittenAfter(tableId: number, after: number): string
  countNewerRows(db: Queryable, tableId: number, after: number, cap: number): Promise<number>
  tableBlocks(db: Queryable, tableId: number): Promise<number>
  estimatedRows(db: Queryable, tableId: number, indexName: string): Promise<number>
  /** The commit time of a table version as text (what tells it from a later version of the same number), or undefined. */
  versionStamp(db: Queryable, tableId: number, version: number): Promise<string | undefined>
}

let provided: IndexStatements | undefined

/** Called once by the catalog as it loads. */
export function provideIndexStatements(statements: IndexStatements): void {
  provided = statements
}

export function indexStatements(): IndexStatements {
  if (!provided) throw new Error('the data-table statements of the index layer were not provided (the catalog provides them when it loads)')
  return provided
}
