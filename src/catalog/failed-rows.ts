import { INSERT_FIX, UPDATE_FIX } from './data-table/index.ts'
import type { TableState } from './state.ts'
import { keyOf } from './upsert.ts'
import type { Row } from './validate-rows.ts'
import { inputColumns } from './validate-rows.ts'

// How a write names the row a computed column (onError 'abort') failed on, and what its error tells the caller to
// do. The failing row's index is its place in the batch the column was computed for: for an insert that is its place
// in the input, but an update computes over the rows its where matched (in no order the caller knows), and a
// batchUpdate over its rows regrouped by the columns they set, then its inserts apart: there an index named another
// row of the input, or none.

export interface FailedRowNames {
  /** The row at index `i` of the computed batch, as the caller can find it. */
  readonly name: (i: number) => { readonly text: string; readonly details: Readonly<Record<string, unknown>> }
  /** What the error says was done and what to do about it. */
  readonly fix: string
}

/** An insert: rows by their place in the input, which takes onError itself. */
export const INSERTED_ROWS: FailedRowNames = {
  name: (i) => ({ text: `row ${i}`, details: { row: i } }),
  fix: INSERT_FIX,
}

/** Rows an update (or recompute) matched: by primary key, or in a table without one by the values the columns read. */
export function matchedRows(state: TableState, rows: readonly Row[]): FailedRowNames {
  return { name: (i) => byKeyOrValues(state, rows[i]!), fix: UPDATE_FIX }
}

/** A new computed column's backfill: rows by key, as an update's; addComputedColumn takes onError itself. */
export function backfilledRows(state: TableState, rows: readonly Row[]): FailedRowNames {
  return { name: (i) => byKeyOrValues(state, rows[i]!), fix: INSERT_FIX }
}

/**
 * A view's rows as its sync computes its own columns: by their values (a view has no key; the index was the row's
 * place in the sync's batch). The base's write has committed: it is the view that did not follow, and its column's
 * onError, not the base write's, decides.
 */
export function viewRows(state: TableState, rows: readonly Row[]): FailedRowNames {
  return { name: (i) => byKeyOrValues(state, rows[i]!), fix: VIEW_FIX }
}

const VIEW_FIX = "the view did not follow this change of its base (its column was added with onError 'abort', which stops a sync on a failing cell; added with onError: 'ignore', it stores the error per cell instead)"

/** A batchUpdate's (or upsert's) rows: by their place in its input, and their key. */
export function batchRows(state: TableState, rows: readonly Row[], inputIndex: (row: Row) => number): FailedRowNames {
  return {
    name: (i) => {
      const row = inputIndex(rows[i]!)
      return { text: `row ${row} (primary key ${keyOf(state, rows[i]!)})`, details: { row } }
    },
    fix: UPDATE_FIX,
  }
}

/** Values past this many characters are cut: enough to find a row, not a document's text in an error. */
const MAX_VALUES_TEXT = 200

function byKeyOrValues(state: TableState, row: Row): { text: string; details: Record<string, unknown> } {
  const keyed = state.md.primaryKey.length > 0 && state.md.primaryKey.every((id) => state.md.columns.find((c) => c.id === id)!.name in row)
  if (keyed) return { text: `the row with primary key ${keyOf(state, row)}`, details: { key: JSON.parse(keyOf(state, row)) as unknown } }
  // The values the failed columns read (the rows carry those, not every column).
  const values = Object.fromEntries(inputColumns(state.md).filter((c) => !c.column.hidden && c.column.name in row).map((c) => [c.column.name, row[c.column.name]]))
  const text = JSON.stringify(values, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))
  return { text: `a row with ${text.length > MAX_VALUES_TEXT ? `${text.slice(0, MAX_VALUES_TEXT)}…` : text}`, details: {} }
}
