import type { IndexMd } from '../../catalog/metadata.ts'
import { isSqlExpr } from '../../query/compiler.ts'
import { executePlan } from '../../query/executor.ts'
import type { ExprNode, FnNode } from '../../query/nodes/index.ts'
import { planQuery } from '../../query/planner.ts'
import type { QuerySpec } from '../../query/spec.ts'
import type { Queryable } from '../../store/types.ts'
import { vectorIndexesOf } from './manager.ts'
import { nativeDistance } from './native.ts'
import { rowsAfter } from './store.ts'

// Top-k on the embedded store, per query. Exact search (pgvector distances in SQL) for time travel, when asked
// (exact: true), while the index is not ready, and on small tables. Otherwise the native index ranks:
// candidates from the index, over-fetched until enough of them pass the filter (the share that passes says how many
// more to fetch; a selective filter's rows are listed once and checked here), so a filtered search never returns
// fewer than k rows when k exist; past a quarter of the rows, exact.
// Rows written after the version the index covers are listed with the candidates and ranked by a distance computed
// here. With f32 vectors the index's distances are exact, so SQL only fetches the top rows in that order; quantized
// indexes (f16, i8) have SQL re-rank the candidates by exact distance.

export const annLimits = {
  /** A filter matching at most this many rows is checked against their list instead of in SQL per round. */
  exactRows: 2048,
  /** Candidates that must pass the filter, as a multiple of k, before the ranked answer is trusted. */
  passFactor: 2,
  /** Rows written since the index's version that are listed with the candidates; beyond, the search is exact. */
  tailRows: 5000,
  /** Extra rows listed beyond k when candidates are not checked first (rows ended by a commit the hook missed). */
  margin: 10,
}

export interface AnnQueryOptions {
  readonly efSearch?: number
  readonly exact?: boolean
}

/**
 * Adds the native index's candidates to a resolved top-k spec when that is the better plan; returns the spec
 * unchanged (exact search in SQL) otherwise. `dist` is the vector_distance node the spec orders by.
 */
export async function planAnn(db: Queryable, spec: QuerySpec, idx: IndexMd, dist: FnNode, options: AnnQueryOptions): Promise<QuerySpec> {
  const manager = vectorIndexesOf(db)
  if (!manager || options.exact) return spec
  const first = spec.orderBy[0]
  if (first?.expr !== dist || first.desc || spec.limit === undefined || spec.joins.length > 0 || spec.groupBy?.length || spec.distinct || spec.sample) return spec
  if (spec.from.version !== undefined || (spec.where && !isSqlExpr(spec.where))) return spec
  const entry = manager.entry(spec.from.tableId, idx)
  entry.touch()
  const native = entry.native
  const covered = entry.version
  if (!native || covered < 0) return spec
  const k = spec.limit + (spec.offset ?? 0)
  const total = Math.max(native.size, 1)
  if (k === 0 || k * 4 >= total) return spec

  // f32 distances from the index are exact: rank by them and fetch only the top rows. Quantized ones are not: SQL
  // re-ranks the candidates by pgvector's exact distance.
  const byIndex = entry.settings.quantization === 'f32'
  const efSearch = options.efSearch ?? entry.settings.efSearch
  const query = Float32Array.from(dist.opts!.vector as number[])
  const need = spec.where ? k * annLimits.passFactor : k

  if (!spec.where && entry.liveOnly) {
    // Unfiltered, with only live rows in the index: one statement fetches the nearest candidates together with the
    // rows written after the covered version (ranked by their exact distance), so no statement lists those first.
    const found = await native.search(query, Math.max(efSearch, k + annLimits.margin))
    const keys = `{${found.keys.join(',')}}`
    const scope: ExprNode = { fn: 'ann_candidates', args: [], opts: { keys, after: covered } }
    if (!byIndex) return { ...spec, where: scope }
    const dists = `{${Array.from(found.distances, (d) => pgDistance(idx.metric, d)).join(',')}}`
    const order: ExprNode = { fn: 'ann_order', args: [dist], opts: { keys, dists, after: covered } }
    return { ...spec, where: scope, orderBy: [{ expr: order, desc: false }, ...spec.orderBy.slice(1)] }
  }
  // The rows written since the covered version join every candidate list, with their distances computed here.
  const tail = await rowsAfter(db, spec.from.tableId, idx.valueColumnId, covered, annLimits.tailRows, byIndex)
  if (tail.length > annLimits.tailRows) return spec
  const tailDistance = new Map(tail.filter((r) => r.vector).map((r) => [r.key, nativeDistance(idx.metric, r.vector!, query)]))
  const ranked = (keys: string[], distance: Map<string, number>, count = k): QuerySpec => {
    // The top rows in the index's order; SQL fetches just those and keeps that order.
    const top = keys.sort((a, b) => distance.get(a)! - distance.get(b)! || Number(a) - Number(b)).slice(0, count)
    const list = `{${top.join(',')}}`
    const only: ExprNode = { fn: 'ann_candidates', args: [], opts: { keys: list } }
    return { ...spec, where: spec.where ? { fn: 'and', args: [spec.where, only] } : only, orderBy: [{ expr: { fn: 'ann_rank', args: [], opts: { keys: list } }, desc: false }, ...spec.orderBy.slice(1)] }
  }
  // A selective filter's matching rows, once the candidates suggest it is selective (then checked here, not in SQL).
  let matching: Set<string> | undefined
  let fetch = Math.max(efSearch, need)
  // Past a quarter of the rows, ranking them all exactly costs about as much as the candidates would.
  while (fetch * 4 < total) {
    const found = await native.search(query, fetch)
    const distance = new Map<string, number>()
    found.keys.forEach((key, i) => distance.set(String(key), found.distances[i]!))
    // A row updated since the covered version: the index holds its old vector; the tail has the current one.
    // (Quantized indexes fetched no tail vectors: SQL ranks those rows with the rest.)
    for (const r of tail) {
      if (!byIndex) distance.set(r.key, 0)
      else if (r.vector) distance.set(r.key, tailDistance.get(r.key)!)
      else distance.delete(r.key)
    }
    const list = `{${[...distance.keys()].join(',')}}`
    const candidates: ExprNode = { fn: 'ann_candidates', args: [], opts: { keys: list } }
    const where: ExprNode = spec.where ? { fn: 'and', args: [spec.where, candidates] } : candidates
    const passing = matching ? [...distance.keys()].filter((key) => matching!.has(key)) : await passingRows(db, spec, where)
    if (passing.length >= need) return byIndex ? ranked(passing, distance) : { ...spec, where }
    if (spec.where && !matching && passing.length * total < fetch * annLimits.exactRows) {
      // Few candidates pass: list the filter's rows once (a bounded probe) and check candidates against that list.
      const rows = await passingRows(db, spec, spec.where, annLimits.exactRows + 1)
      if (rows.length <= annLimits.exactRows) {
        if (rows.length <= k * annLimits.passFactor) return spec
        matching = new Set(rows)
        fetch = Math.max(fetch * 2, Math.ceil((need * 1.5 * total) / rows.length))
        continue
      }
    }
    // The share of candidates passing the filter near this query says how many more to fetch.
    fetch = Math.max(fetch * 2, Math.ceil((need * 1.5 * fetch) / Math.max(passing.length, 1)))
  }
  if (matching && byIndex) {
    // Still too few: every matching row ranked by the index's distance (a search as wide as the index), unless some
    // matching row is missing from the graph — then exact SQL.
    const found = await native.search(query, total)
    const inTail = new Set(tail.map((r) => r.key))
    const wanted = new Set([...matching].filter((key) => !inTail.has(key)).map((key) => BigInt(key)))
    const distance = new Map<string, number>()
    let seen = 0
    for (let i = 0; i < found.keys.length; i++) {
      if (!wanted.has(found.keys[i]!)) continue
      if (seen++ < k) distance.set(String(found.keys[i]!), found.distances[i]!)
    }
    if (seen < wanted.size) return spec
    for (const r of tail) if (r.vector && matching.has(r.key)) distance.set(r.key, tailDistance.get(r.key)!)
    return ranked([...distance.keys()], distance)
  }
  return spec
}

/** usearch's distance as pgvector's: 1 − cosine is the same; 1 − dot becomes −dot; squared L2 becomes L2. */
function pgDistance(metric: IndexMd['metric'], d: number): number {
  if (!Number.isFinite(d)) return 1e30
  return metric === 'ip' ? d - 1 : metric === 'l2' ? Math.sqrt(Math.max(d, 0)) : d
}

/** The _rowid of the current rows matching `where`, up to `cap` of them. */
async function passingRows(db: Queryable, spec: QuerySpec, where: ExprNode, cap?: number): Promise<string[]> {
  const probe: QuerySpec = { from: spec.from, joins: [], where, select: [{ name: 'r', expr: { fn: 'ann_rowid', args: [] } }], orderBy: [{ expr: { fn: 'ann_rowid', args: [] }, desc: false }], ...(cap ? { limit: cap } : {}) }
  return (await executePlan(db, planQuery(probe))).rows.map((r) => String(r.r))
}
