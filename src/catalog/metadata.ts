import type { AuthorLimits } from '../media/index.ts'
import type { ExprNode } from '../query/index.ts'

// What the catalog stores about a table (tessera.tables.md, and a copy per version in tessera.versions.md).
// Columns have stable ids: renaming changes only `name`; the data column is always c<id>.

export type OnError = 'abort' | 'ignore'
export type MediaValidation = 'on_write' | 'on_read'
export type IfExists = 'error' | 'ignore' | 'replace' | 'replace_force'
export type IfNotExists = 'error' | 'ignore'

export interface ComputedMd {
  readonly expr: ExprNode
  readonly onError: OnError
  /** false: nothing is stored; the value is computed from the expression whenever the column is read. */
  readonly stored?: false
  /**
   * Set when a restricted caller (a scoped token) defined the column: its media reads never exceed what that caller
   * could reach, whoever writes or reads the rows later (src/media/author-limits.ts).
   */
  readonly limits?: AuthorLimits
}

export interface ColumnMd {
  readonly id: number
  readonly name: string
  /** Canonical type string ('int', 'image?', 'array<float32>[384]'). */
  readonly type: string
  readonly computed?: ComputedMd
  /** Table version at which the column was added. */
  readonly addedIn: number
  readonly mediaValidation?: MediaValidation
  readonly comment?: string
  /** Hidden columns (embedding index values) are not selected by default. */
  readonly hidden?: boolean
  /** Computed media columns: the store their values are written to ('s3://bucket/prefix' or a folder). */
  readonly destination?: string
  /**
   * Media columns created since per-cell media errors exist: they have errortype/errormsg data columns, so an
   * insert with onError: 'ignore' stores an invalid file as null plus its error (as Pixeltable does).
   */
  readonly cellErrors?: true
  /** A scalar index over the column's current values serves filters on it (Table.addScalarIndex). */
  readonly indexed?: true
}

export interface TableMd {
  readonly columns: readonly ColumnMd[]
  /** Column ids of the primary key, in key order. */
  readonly primaryKey: readonly number[]
  readonly nextColumnId: number
  readonly comment?: string
  readonly mediaValidation: MediaValidation
  /** Views: what the view is over and how far it has followed its base. */
  readonly view?: ViewMd
  /** Snapshots: the base table and the version they pin. */
  readonly snapshot?: SnapshotMd
  /** Embedding indexes (src/index/): each reads a hidden computed column holding the vectors. */
  readonly indexes?: readonly IndexMd[]
}

export type IndexMetric = 'cosine' | 'ip' | 'l2'

export interface IndexMd {
  readonly name: string
  readonly kind: 'embedding'
  /** The indexed column (text or image). */
  readonly columnId: number
  /** The hidden computed column with the vectors (array<float32>[dims]). */
  readonly valueColumnId: number
  readonly metric: IndexMetric
  readonly dims: number
  /** The embedder as data: a registered function, its options, and what it embeds ('vector': the column holds vectors). */
  readonly embed: { readonly fn: string; readonly opts: Readonly<Record<string, unknown>>; readonly modality: 'text' | 'image' | 'vector' }
  readonly addedIn: number
  /** Text indexes: the text search configuration of the companion full-text (GIN) index hybrid search uses. */
  readonly fullText?: { readonly language: string }
  /** HNSW settings given at creation (src/index/ann/); absent ones take the defaults. */
  readonly ann?: { readonly m?: number; readonly efConstruction?: number; readonly efSearch?: number; readonly quantization?: 'f32' | 'f16' | 'i8' }
}

export interface ViewMd {
  readonly baseId: number
  /** Only base rows matching this predicate belong to the view. */
  readonly where?: ExprNode
  /** One base row → many view rows (chunks, frames, tiles), each with `pos`. */
  readonly iterator?: { readonly name: string; readonly input: string; readonly inputColumn?: string; readonly args: Readonly<Record<string, unknown>> }
  /** View column id → base column id, for the base columns the view carries. */
  readonly baseColumns: readonly (readonly [number, number])[]
  /**
   * View column id → base column id, for base columns computed when read (stored: false), which the view computes
   * from the columns it carries; so that they follow renames and drops of the base (absent in views made before).
   */
  readonly baseUnstored?: readonly (readonly [number, number])[]
  /** The base version the view's rows reflect. */
  readonly syncedBaseVersion: number
}

export interface SnapshotMd {
  readonly baseId: number
  readonly version: number
}

export type TableKind = 'table' | 'view' | 'snapshot'

export type VersionKind =
  | 'create' | 'insert' | 'update' | 'delete' | 'upsert'
  | 'add_column' | 'drop_column' | 'rename_column' | 'recompute' | 'sync'

export interface VersionInfo {
  readonly version: number
  readonly createdAt: Date
  readonly kind: VersionKind
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
  readonly errors: number
  readonly schema: Record<string, string>
}

/** Result of a data change, with Pixeltable's field names camelCased. */
export interface UpdateStatus {
  readonly version: number
  readonly numRows: number
  readonly numInserted: number
  readonly numUpdated: number
  readonly numDeleted: number
  readonly numComputedValues: number
  readonly numExcs: number
  readonly colsWithExcs: readonly string[]
  readonly updatedCols: readonly string[]
}

/** Columns with a data column of their own (all but computed columns with stored: false). */
export function isStored(c: ColumnMd): boolean {
  return c.computed?.stored !== false
}

/** Columns with errortype/errormsg data columns: stored computed columns, and media columns with cellErrors. */
export function hasErrorColumns(c: ColumnMd): boolean {
  return (!!c.computed && isStored(c)) || c.cellErrors === true
}

export function findColumn(md: TableMd, name: string): ColumnMd | undefined {
  return md.columns.find((c) => c.name === name)
}
