import { notFound } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { ColumnMd } from './metadata.ts'
import type { TableState } from './state.ts'
import type { Row } from './validate-rows.ts'
import { readCurrentByKey } from './data-table/index.ts'

export { groupBySetColumns, pkColumns, setColumns, updateByKey } from './data-table/index.ts'

// Updates by primary key (Pixeltable's batch_update): each row names its key and the columns to change.

export function keyOf(state: TableState, row: Row): string {
  return JSON.stringify(state.md.primaryKey.map((id) => row[state.md.columns.find((c) => c.id === id)!.name]))
}

/**
 * Splits rows into those whose key exists (at the current version) and those whose key does not; `current` holds the
 * existing rows as stored, by key: their _rowid and the values of `columns` by name (what a cascade recomputes from).
 */
export async function partitionByExistingKey(
  tx: Queryable, state: TableState, rows: readonly Row[], columns: readonly ColumnMd[] = [],
): Promise<{ existing: Row[]; missing: Row[]; current: Map<string, Row> }> {
  const current = new Map<string, Row>()
  for (const r of await readCurrentByKey(tx, state, rows, columns)) current.set(keyOf(state, normalizeKey(state, r)), r)
  const existing: Row[] = []
  const missing: Row[] = []
  for (const r of rows) (current.has(keyOf(state, normalizeKey(state, r))) ? existing : missing).push(r)
  return { existing, missing, current }
}

/** The row as stored, by the key of an update row. */
export function storedRow(state: TableState, current: Map<string, Row>, row: Row): Row {
  return current.get(keyOf(state, normalizeKey(state, row)))!
}

/** Keys read back from Postgres and keys from input must serialise alike (Dates, numbers). */
function normalizeKey(state: TableState, row: Row): Row {
  const out: Row = { ...row }
  for (const id of state.md.primaryKey) {
    const c = state.md.columns.find((x) => x.id === id)!
    const v = out[c.name]
    if (v instanceof Date) out[c.name] = v.toISOString()
  }
  return out
}

export function missingKeyError(state: TableState, row: Row) {
  return notFound('NOT_FOUND', `no row with primary key ${keyOf(state, row)} in '${state.path}'; pass ifNotExists: 'insert' to insert it or 'ignore' to skip it`)
}
