import type { ColumnMd } from '../../catalog/index.ts'
import { isCol } from '../../query/index.ts'
import type { QuerySpec } from '../../query/index.ts'
import { formatType, parseType } from '../../types/index.ts'
import type { AnnEntry } from './manager.ts'

// A top-k answered by the native index alone: when the search returns only columns the index keeps a copy of
// (column-copies.ts), the rows its ranking names are read from that copy and no statement runs. On the embedded store
// a statement is a round trip to the store's worker thread plus planning and execution in WebAssembly Postgres: at
// 100,000 rows it was ~1.1 ms of store time and ~1.5 ms of wall of an unfiltered top-10's ~3.4 ms (BENCHMARKS.md,
// issue 16, twelfth session). It is only the same answer as the statement's while the graph and the copy hold every
// row a reader of the store would see, so each condition below is checked after the search's last await:
// - the graph covers every commit (caughtUp) at the version the search ran on, and holds only live rows (liveOnly):
//   no newer rows to rank exactly, no ended row among the candidates;
// - no write to the table is under way: a commit is visible in the store before its hook tells the index, so a
//   search in between would miss its rows while a plain read already saw them;
// - f32 or f16 vectors (the caller's check): the statement orders the candidates by the same distances (f32 exact,
//   f16 within 1e-4 of exact: plan.ts); i8 ones are re-ranked by SQL.

/**
 * The rows of `spec` (select of `returned` columns only) from `ranked` (the candidates' _rowid, nearest first, all
 * passing the filter), or undefined when the index cannot vouch for them now or the copy lacks a value.
 */
export function answerFromIndex(entry: AnnEntry, spec: QuerySpec, returned: readonly ColumnMd[] | undefined, ranked: readonly string[], covered: number): QuerySpec['answered'] | undefined {
  if (!returned || !spec.select || spec.limit === undefined) return undefined
  if (!entry.caughtUp || !entry.liveOnly || entry.version !== covered || entry.owner.writing(entry.tableId)) return undefined
  const offset = spec.offset ?? 0
  const keys = ranked.slice(offset, offset + spec.limit).map(Number)
  const values = entry.columnCopies.values(returned, keys, covered)
  if (!values) return undefined
  const select = spec.select
  // Each output's column among `returned` (columnsReturned listed every selected column once, aliases included).
  const sources = select.map((item) => returned.findIndex((c) => isCol(item.expr) && c.name === item.expr.col))
  const rows = keys.map((_, r) => {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < select.length; i++) row[select[i]!.name] = values[sources[i]!]![r]
    return row
  })
  const columns = select.map((item, i) => ({ name: item.name, type: formatType(parseType(returned[sources[i]!]!.type)) }))
  return { columns, rows }
}
