import { computedPlans } from './computed.ts'
import type { CellError } from '../query/index.ts'
import type { MediaEnv } from '../media/index.ts'
import { validateMediaRows, validateMediaRowsIgnoringErrors } from '../media/index.ts'
import type { OnError, TableMd } from './metadata.ts'
import type { WriteCounts } from './rows.ts'
import { computeTsColumns } from './rows.ts'
import type { TableState } from './state.ts'
import type { Row } from './validate-rows.ts'

// What an insert does to validated rows before it writes them, outside any transaction: media cells become
// canonical refs (checked or stored), and TypeScript-computed columns (UDFs, models, embedding indexes) are
// computed. Shared by Table.insert and the staged bulk load of imports (staging.ts), so both fill the same columns.

export interface PreparedInsert {
  readonly valid: Row[]
  readonly ts: Map<number, { values: unknown[]; errors: (CellError | null)[] }>
  /** Per row, media cells stored as null with their error (onError: 'ignore'). */
  readonly mediaErrors?: readonly (Readonly<Record<string, CellError>> | undefined)[]
}

/** `check` runs on the rows with canonical media, before any (possibly slow) computed column is computed. */
export async function prepareInsert(
  media: MediaEnv | undefined, state: TableState, checked: Row[], onError: OnError, counts: WriteCounts, check?: (valid: readonly Row[]) => void,
): Promise<PreparedInsert> {
  // onError: 'ignore' also covers bad media files: null plus the error in the cell, as in Pixeltable.
  const ignored = onError === 'ignore' && media ? await validateMediaRowsIgnoringErrors(state.md, state.path, checked, media) : undefined
  const valid = ignored ? ignored.rows : media ? await validateMediaRows(state.md, state.path, checked, media) : checked
  for (const e of ignored?.errors ?? []) {
    for (const name of Object.keys(e ?? {})) (counts.excs++, counts.colsWithExcs.add(name))
  }
  check?.(valid)
  // As in Pixeltable, an insert aborts on a failing cell unless it says otherwise, whatever onError the column was
  // added with (that one governs its backfill). Plans from the effective setting: it also decides which columns
  // compute in SQL (abort) or TypeScript.
  const ts = await computeTsColumns(computedPlans(withOnErrorMd(state.md, onError)), valid, state.path, counts)
  return { valid, ts, ...(ignored ? { mediaErrors: ignored.errors } : {}) }
}

/** An insert's onError overrides each computed column's own setting for this call. */
export function withOnErrorMd(md: TableMd, onError: OnError | undefined): TableMd {
  if (!onError) return md
  return { ...md, columns: md.columns.map((c) => (c.computed ? { ...c, computed: { ...c.computed, onError } } : c)) }
}
