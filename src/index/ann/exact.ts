import { executePlan, fnNode, isSqlExpr, planQuery } from '../../query/index.ts'
import type { ExprNode, FnNode, QuerySpec } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { Pace } from './pace.ts'
import { currentVersion, tableBlocks } from './store.ts'

// An exact top-k on the embedded store, ranked a slice of the table at a time. One statement that computes the
// distance of every row holds the store for its whole length (20,000 rows of 256 dimensions: ~2.5 s in WASM
// Postgres), and a statement cannot be preempted: every point read and /health-adjacent query waited behind it
// (issue 15). Here each statement ranks the rows of a range of blocks (a TID range scan) and keeps its k nearest; the
// final statement ranks the union of those with the rows written since the slices were read. The top k of the
// whole is among the union of each slice's top k, so the answer is the same as the one-statement form's.

export const exactStepLimits = {
  /** A table of at most this many blocks is ranked in one statement (a few hundred rows: a few ms). */
  singleStatementBlocks: 32,
  /** Store time one slice aims at; the scheduler runs waiting reads between slices. */
  sliceMs: 30,
  maxSliceBlocks: 4096,
}

/**
 * The spec of an exact top-k (ordered by `dist` ascending, with a limit) rewritten to rank only the candidates found
 * slice by slice; the spec unchanged when it is small, or not a plain single-table top-k.
 */
export async function exactInSlices(db: Queryable, spec: QuerySpec, dist: FnNode): Promise<QuerySpec> {
  if (!sliceable(spec, dist)) return spec
  const sliced = await topInSlices(db, spec, dist)
  if (!sliced) return spec
  const candidates: ExprNode = fnNode('ann_candidates', [], {
    keys: `{${sliced.keys.join(',')}}`,
    ...(spec.from.version === undefined ? { after: sliced.pinned, table: spec.from.tableId } : {}),
  })
  return { ...spec, where: spec.where ? fnNode('and', [spec.where, candidates]) : candidates }
}

/** A plain single-table top-k by `dist`, with a filter SQL can run: what slices can rank. */
export function sliceable(spec: QuerySpec, dist: FnNode): boolean {
  const first = spec.orderBy[0]
  if (first?.expr !== dist || first.desc || spec.limit === undefined || spec.joins.length > 0 || spec.groupBy?.length || spec.distinct || spec.sample) return false
  return !spec.where || isSqlExpr(spec.where)
}

/**
 * The _rowid of each slice's nearest k rows (k = limit + offset) among those `spec` selects, read at one version (the
 * committed one, or the version a time-travel query names) so that rows moved by a write between two slices are
 * neither missed nor counted twice: current rows written after `pinned` are the caller's to add. Undefined when the
 * table is small enough for one statement (or has no committed version).
 */
export async function topInSlices(db: Queryable, spec: QuerySpec, dist: FnNode): Promise<{ keys: string[]; pinned: number } | undefined> {
  const table = spec.from.tableId
  const blocks = await tableBlocks(db, table)
  const k = (spec.limit ?? 0) + (spec.offset ?? 0)
  if (blocks <= exactStepLimits.singleStatementBlocks || k === 0) return undefined
  const pinned = spec.from.version ?? (await currentVersion(db, table))
  if (pinned === undefined) return undefined
  const keys: string[] = []
  const pace = new Pace(8, exactStepLimits.sliceMs, { min: 1, max: exactStepLimits.maxSliceBlocks, growth: 4 })
  for (let from = 0; from <= blocks; ) {
    const sliceBlocks = pace.size
    const to = from + sliceBlocks
    const inSlice = fnNode('ann_blocks', [], { from, to })
    const probe: QuerySpec = {
      from: { ...spec.from, version: pinned }, joins: [],
      where: spec.where ? fnNode('and', [spec.where, inSlice]) : inSlice,
      select: [{ name: 'r', expr: fnNode('ann_rowid', []) }],
      orderBy: [{ expr: dist, desc: false }], limit: k,
    }
    const started = performance.now()
    for (const row of (await executePlan(db, planQuery(probe))).rows) keys.push(String(row.r))
    pace.took(sliceBlocks, performance.now() - started)
    from = to
  }
  return { keys, pinned }
}
