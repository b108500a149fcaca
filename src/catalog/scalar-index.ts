import { alreadyExists, invalid, notFound } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import { parseType } from '../types/index.ts'
import { createScalarIndex, dropScalarIndex } from './data-table/index.ts'
import type { ColumnMd, TableMd } from './metadata.ts'
import { isStored } from './metadata.ts'

// Scalar indexes (Table.addScalarIndex): an index over one column's current values, declared by the user for the
// columns their filters name, so that a filter picking few rows finds them without reading every row. The vector
// search planner relies on it for selective filters (src/index/ann/plan.ts: the filter's rows are listed, then ranked
// exactly); any other query whose filter names the column benefits the same way. It is an access path, not data: the
// column's entry records it (ColumnMd.indexed), a revert of the version that declared it leaves the physical index in
// place (only the entry goes), and adding it again is `create index if not exists`.

/** Column types with a scalar index: what a b-tree (or, for text, a hash index) can order or compare. */
const INDEXABLE = new Set(['int', 'float', 'bool', 'string', 'timestamp', 'date', 'uuid'])

/** Text gets a hash index: a b-tree entry must fit a third of a page, so a long value would fail its insert. */
const scalarIndexMethod = (c: ColumnMd): 'btree' | 'hash' => (parseType(c.type).kind === 'string' ? 'hash' : 'btree')

/** The column a scalar index is declared on, checked: it exists, is stored, and has a comparable type. */
export function scalarIndexColumn(md: TableMd, path: string, column: string): ColumnMd {
  const c = md.columns.find((x) => x.name === column && !x.hidden)
  if (!c) throw notFound('COLUMN_NOT_FOUND', `'${path}' has no column '${column}'`, { column })
  const kind = parseType(c.type).kind
  if (!INDEXABLE.has(kind)) throw invalid('INVALID_ARGUMENT', `column '${column}' of '${path}' is ${c.type}: a scalar index takes int, float, bool, string, timestamp, date or uuid columns`, { column })
  if (!isStored(c)) throw invalid('INVALID_ARGUMENT', `column '${column}' of '${path}' is computed when read (stored: false): there are no values to index`, { column })
  return c
}

/** The schema with `column`'s scalar index declared (`on`) or not, after creating or dropping the physical index. */
export async function setScalarIndex(tx: Queryable, tableId: number, md: TableMd, path: string, column: string, on: boolean, mode: 'error' | 'ignore'): Promise<TableMd> {
  const c = scalarIndexColumn(md, path, column)
  if (on === (c.indexed === true)) {
    if (mode === 'ignore') return md
    if (on) throw alreadyExists('INDEX_ALREADY_EXISTS', `column '${column}' of '${path}' already has a scalar index`, { column })
    throw notFound('INDEX_NOT_FOUND', `column '${column}' of '${path}' has no scalar index`, { column })
  }
  if (on) await createScalarIndex(tx, tableId, c.id, scalarIndexMethod(c))
  else await dropScalarIndex(tx, tableId, c.id)
  const { indexed: _, ...plain } = c
  return { ...md, columns: md.columns.map((x) => (x.id === c.id ? (on ? { ...c, indexed: true as const } : plain) : x)) }
}

/**
 * After a revert: the physical scalar indexes made to match the schema it brings back. Undoing a dropScalarIndex (or
 * a dropColumn of an indexed column) marks the column indexed again, so its index is created again; undoing an
 * addScalarIndex drops the index it made, which would otherwise slow every write for nothing.
 */
export async function restoreScalarIndexes(tx: Queryable, tableId: number, from: TableMd, to: TableMd): Promise<void> {
  for (const c of to.columns) {
    const before = from.columns.find((x) => x.id === c.id)
    if (c.indexed && !before?.indexed) await createScalarIndex(tx, tableId, c.id, scalarIndexMethod(c))
  }
  for (const c of from.columns) {
    if (c.indexed && !to.columns.find((x) => x.id === c.id)?.indexed) await dropScalarIndex(tx, tableId, c.id)
  }
}
