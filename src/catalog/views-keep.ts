import { isDeepStrictEqual } from 'node:util'
import type { CellError } from '../query/index.ts'
import { parseType, fromStore } from '../types/index.ts'
import { readErrorKeys } from './computed.ts'
import type { ComputedPlan } from './computed.ts'
import type { TableMd } from './metadata.ts'
import { isStored } from './metadata.ts'
import { computeTsColumns } from './rows.ts'
import type { WriteCounts } from './rows.ts'
import type { Row } from './validate-rows.ts'
import type { FailedRowNames } from './failed-rows.ts'

// A view sync ends the view rows of base rows that changed and enters their current versions. Most such rows enter
// again with the same values for what the view's own computed columns read (an update of a base column they do not
// read), so recomputing them would call the function again for nothing (an LLM call, say). A row entering in place of
// one leaving, from the same base row (and iterator position), keeps that row's _rowid (the view's insertion order
// stays the base's) and each TypeScript-computed value, with its error, whose inputs are unchanged.

export type TsValues = Map<number, { values: unknown[]; errors: (CellError | null)[] }>

/** The view rows leaving in a sync, decoded, by the key of the row that may enter in their place. */
export class LeavingRows {
  readonly #rows = new Map<string, Row>()

  /** `raw`: the leaving rows as data-table/views.ts readLeavingViewRows reads them (columns by name, _rowid). */
  constructor(md: TableMd, raw: readonly Row[], readonly keyOf: (row: Row) => string) {
    const columns = md.columns.filter(isStored)
    for (const r of raw) {
      const row: Row = { _rowid: r._rowid }
      for (const c of columns) {
        row[c.name] = fromStore(parseType(c.type), r[c.name])
        const keys = readErrorKeys(c.name)
        if (keys.errortype in r) (row[keys.errortype] = r[keys.errortype], row[keys.errormsg] = r[keys.errormsg])
      }
      this.#rows.set(keyOf(row), row)
    }
  }

  get size(): number {
    return this.#rows.size
  }

  get(row: Row): Row | undefined {
    return this.#rows.size === 0 ? undefined : this.#rows.get(this.keyOf(row))
  }
}

/** The key matching an entering row to a leaving one: its base row, and its position for an iterator's rows. */
export function viewRowKey(baseRowId: string, iterated: boolean): (row: Row) => string {
  return iterated ? (row) => `${row[baseRowId]}:${row.pos}` : (row) => String(row[baseRowId])
}

/**
 * The TypeScript-computed values of entering `rows`, keeping those of the leaving row each replaces where every
 * input of the column is the same (a computed input counts as the same only where it was kept too), and the _rowid
 * each row keeps (undefined: a new row). Plans come in read order (computedPlans): a kept value feeds the plans after.
 */
export async function computeKeeping(
  plans: readonly ComputedPlan[], rows: readonly Row[], leaving: LeavingRows, path: string, counts: WriteCounts, names: (rows: readonly Row[]) => FailedRowNames,
): Promise<{ ts: TsValues; rowIds: (number | undefined)[] }> {
  const old = rows.map((r) => leaving.get(r))
  const rowIds = old.map((o) => (o === undefined ? undefined : Number(o._rowid)))
  if (leaving.size === 0) return { ts: await computeTsColumns(plans, rows, path, counts, { rows: names(rows) }), rowIds }
  const ts: TsValues = new Map()
  // Per row, the values decided so far by column name (with their errors), which later plans read.
  const decided = rows.map((r) => ({ ...r }))
  const kept = new Map<string, boolean[]>()
  for (const p of plans) {
    if (p.mode !== 'ts') continue
    const keep = rows.map((r, i) => old[i] !== undefined && [...p.inputs].every((name) => {
      const k = kept.get(name)
      return k ? k[i] === true : isDeepStrictEqual(r[name] ?? null, old[i]![name] ?? null)
    }))
    const todo = rows.flatMap((_, i) => (keep[i] ? [] : [i]))
    const todoRows = todo.map((i) => decided[i]!)
    const fresh = todo.length === 0 ? undefined : (await computeTsColumns([p], todoRows, path, counts, { rows: names(todoRows) })).get(p.column.id)
    const values: unknown[] = new Array(rows.length)
    const errors: (CellError | null)[] = new Array(rows.length)
    const keys = readErrorKeys(p.column.name)
    rows.forEach((_, i) => {
      if (!keep[i]) return
      const o = old[i]!
      values[i] = o[p.column.name] ?? null
      errors[i] = o[keys.errortype] != null ? { errortype: String(o[keys.errortype]), errormsg: String(o[keys.errormsg] ?? '') } : null
    })
    todo.forEach((i, k) => ((values[i] = fresh!.values[k]), (errors[i] = fresh!.errors[k] ?? null)))
    rows.forEach((_, i) => {
      decided[i]![p.column.name] = values[i]
      decided[i]![keys.errortype] = errors[i]?.errortype ?? null
      decided[i]![keys.errormsg] = errors[i]?.errormsg ?? null
    })
    ts.set(p.column.id, { values, errors })
    kept.set(p.column.name, keep)
  }
  return { ts, rowIds }
}
