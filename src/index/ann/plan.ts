import type { ColumnMd, IndexMd } from '../../catalog/index.ts'
import { isCol, isFn, isSqlExpr, executePlan, fnNode, planCacheFor, exprText, someNode } from '../../query/index.ts'
import type { ExprNode, FnNode, QuerySpec } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { vectorIndexesOf } from './manager.ts'
import type { AnnEntry } from './manager.ts'
import { ColumnCopies } from './column-copies.ts'
import { answerFromIndex } from './answer.ts'
import { topInSlices } from './exact.ts'
import { countNewerRows } from './store.ts'
import { defaultEfSearch } from './ef.ts'

// Top-k on the embedded store, per query. Exact search (pgvector distances in SQL) for time travel, when asked
// (exact: true), while the index is not ready, and on small tables. Otherwise the native index ranks:
// candidates from the index, over-fetched until enough of them pass the filter (the share that passes says how many
// more to fetch), so a filtered search never returns fewer than k rows when k exist; a selective filter's rows
// (at most exactRows) are listed once and ranked exactly; past a quarter of the rows, exact.
// Rows written after the version the index covers join the candidates in the final statement (a subquery on the
// _v_min index lists them) and are ranked there by their exact distance, so an unfiltered search is one index search
// and one statement. With f32 vectors the index's distances are exact, so SQL orders the candidates by them (the
// query vector is parsed in SQL only when a newer row needs its distance: ann_order). f16 distances are within 1e-4
// of exact (384-d unit vectors: mean 1.2-1.9e-5, max 0.6-1.0e-4; BENCHMARKS.md, issue 16, sixteenth session) and are
// used the same way, so a search answered from the index alone and its statement give the same order; rows whose
// exact distances differ by less than that may come in the order of their f16 ones (scores returned are exact). i8
// distances are far off (recall@10 0.76 unranked at 100,000 rows): SQL re-ranks every candidate by exact distance.
// A filter's next search starts from the share of candidates that passed its last one (filterMemory): listed at once
// when few rows pass, else one search that wide.

export const annLimits = {
  /** A filter matching at most this many rows has them ranked exactly (listed once) instead of over-fetching. */
  exactRows: 2048,
  /** Candidates that must pass the filter, as a multiple of k, before the ranked answer is trusted. */
  passFactor: 2,
  /** Rows written since the index's version that join the candidates of a filtered search; beyond, it is exact. */
  tailRows: 5000,
  /** Extra rows listed beyond k when candidates are not checked first (rows ended by a commit the hook missed). */
  margin: 10,
  /**
   * Rows written since the index's version that the final statement ranks by exact distance itself; a longer tail
   * (a bulk write the index has not caught up with) is ranked a slice at a time first, so that no statement holds
   * the store for long (20,000 rows in one statement: ~5 s in WASM Postgres).
   */
  tailInStatement: 512,
}

export interface AnnQueryOptions {
  readonly efSearch?: number
  readonly exact?: boolean
}

/**
 * The plan of a resolved top-k spec on the embedded store: the spec with the native index's candidates added when
 * that is the better plan; the spec itself, ranked exactly in one statement, for a selective filter that a scalar
 * index finds (its rows were counted: at most exactRows); undefined when the caller should rank the whole table
 * exactly, a slice of it at a time (exactInSlices — not for the selective filter: its rows lie in every slice, and
 * each slice's statement would find them all again). `dist` is the vector_distance node the spec orders by.
 */
export async function planAnn(db: Queryable, spec: QuerySpec, idx: IndexMd, dist: FnNode, options: AnnQueryOptions): Promise<QuerySpec | undefined> {
  const manager = vectorIndexesOf(db)
  if (!manager || options.exact) return undefined
  const first = spec.orderBy[0]
  if (first?.expr !== dist || first.desc || spec.limit === undefined || spec.joins.length > 0 || spec.groupBy?.length || spec.distinct || spec.sample) return undefined
  if (spec.from.version !== undefined || (spec.where && !isSqlExpr(spec.where))) return undefined
  const entry = manager.entry(spec.from.tableId, idx)
  entry.touch()
  const native = entry.native
  const covered = entry.version
  // A rebuild is due (a revert or a recompute changed vectors in place): the graph may hold vectors no row has now.
  if (!native || covered < 0 || entry.rebuildDue) return undefined
  const k = spec.limit + (spec.offset ?? 0)
  const total = Math.max(native.size, 1)
  if (k === 0 || k * 4 >= total) return undefined

  // f32 distances from the index are exact, f16 ones within 1e-4: SQL orders the candidates by them. i8 ones are too
  // coarse: SQL re-ranks every candidate by pgvector's exact distance. Either way the rows written after the covered
  // version join the candidates in the same statement (ann_candidates with `after`), ranked by their exact distance.
  // The searched graph's quantization (an index saved under an earlier default keeps its form until rebuilt:
  // manager.ts).
  const byIndex = native.settings.quantization !== 'i8'
  // The query's ef, else the one the index was created with, else one that grows with the index (ef.ts).
  const efSearch = options.efSearch ?? idx.ann?.efSearch ?? defaultEfSearch(k, native.size)
  const query = Float32Array.from(dist.opts!.vector as number[])
  const need = spec.where ? k * annLimits.passFactor : k
  // Only columns the index can keep a copy of returned, ranked by the index alone: answered without a statement once
  // the copy is loaded (answer.ts), the copy asked for now.
  const returned = byIndex && spec.orderBy.length === 1 ? ColumnCopies.columnsReturned(spec.select, spec.from.md) : undefined
  if (returned) entry.wantColumnCopies(returned, 'returned')
  const table = spec.from.tableId
  const tail = entry.caughtUp ? { keys: [], after: covered } : await tailCandidates(db, spec, dist, covered)
  const scope = (keys: Iterable<string>): ExprNode => fnNode('ann_candidates', [], { keys: `{${[...keys, ...tail.keys].join(',')}}`, after: tail.after, table })
  const withScope = (keys: Iterable<string>): ExprNode => (spec.where ? fnNode('and', [spec.where, scope(keys)]) : scope(keys))
  /**
   * The final statement: the listed candidates and the newer rows, in order. By f32 or f16 distances only the
   * nearest k + margin candidates are listed; i8 lists every candidate for SQL to re-rank exactly.
   */
  const ranked = (keys: string[], distance: Map<string, number>): QuerySpec => {
    if (!byIndex) return { ...spec, where: withScope(keys) }
    const top = keys.sort((a, b) => distance.get(a)! - distance.get(b)! || Number(a) - Number(b)).slice(0, k + annLimits.margin)
    // Answered here, the spec only has to name the same rows (the candidates, ranked by their exact distance): the
    // order's texts below are not built.
    const answered = answerFromIndex(entry, spec, returned, top, covered)
    if (answered) return { ...spec, where: withScope(top), answered }
    const { metric, dims } = dist.opts!
    // The query vector's text from its float32 copy (what pgvector parses it to anyway): joining the option's own
    // array (frozen with the query node) took ~80 µs a search, the typed array ~10.
    const order = fnNode('ann_order', [dist.args[0]!], { keys: `{${top.join(',')}}`, dists: `{${top.map((key) => pgDistance(idx.metric, distance.get(key)!)).join(',')}}`, after: covered, query: `[${query.join(',')}]`, metric, dims })
    return { ...spec, where: withScope(top), orderBy: [{ expr: order, desc: false }, ...spec.orderBy.slice(1)] }
  }
  const search = async (count: number): Promise<Map<string, number>> => {
    const found = await native.search(query, count)
    const distance = new Map<string, number>()
    found.keys.forEach((key, i) => distance.set(String(key), found.distances[i]!))
    return distance
  }

  // Unfiltered, with only live rows in the index: every candidate passes, so no statement checks them.
  if (!spec.where && entry.liveOnly) {
    const distance = await search(Math.max(efSearch, k + annLimits.margin))
    return ranked([...distance.keys()], distance)
  }
  const indexed = filterIndexed(spec)
  const listBelow = indexed ? annLimits.exactRows : annLimits.exactRows / 4
  const memory = filterMemoryOf(manager)
  const memoKey = spec.where ? `${table}|${exprText(spec.where)}` : undefined
  const memo = memoKey ? memory.get(memoKey) : undefined
  /**
   * The filter's rows ranked exactly when there are at most exactRows of them (a bounded probe lists them). With a
   * scalar index the filter itself finds them again in the ranking statement (the spec itself, in one statement);
   * without one, the listed keys do (finding them by the filter would read the table once more).
   */
  const listedExactly = async (): Promise<QuerySpec | undefined> => {
    const rows = await passingRows(db, spec, spec.where!, annLimits.exactRows + 1)
    if (rows.length > annLimits.exactRows) return undefined
    // The filter's share of the rows, counted: what the next search starts from (not the sampled share that led
    // here, which may have been an unlucky round). Counted while the index covered every commit, it stays the
    // filter's exact count for as long as nothing is written (caughtUp at the same version).
    if (memoKey) remember(memory, memoKey, rows.length / total, 'counted', entry.caughtUp ? covered : undefined)
    if (indexed) return spec
    const listed = fnNode('ann_candidates', [], { keys: `{${rows.join(',')}}` })
    return { ...spec, where: fnNode('and', [spec.where!, listed]) }
  }
  // What the last search with this filter found (filterMemory): the share of its candidates that passed estimates
  // the filter's rows. Few: they are listed at once (the decision the loop below would reach after a round); more:
  // the first search is as wide as that share asks, not one round that finds too few.
  if (memo && memo.share * total < listBelow) {
    // Counted at the version the index still covers, with nothing written since: the count still holds, so the
    // ranking statement runs without listing the rows first (100,000 rows, a 1% filter: the listing was 2.8 of the
    // 9 ms of store time a search took, and ranking the listed keys cost more than finding the rows by the filter:
    // 6.4 against 5.8 ms of store time, alternated; BENCHMARKS.md, issue 16, eleventh session).
    if (indexed && memo.countedAt === covered && entry.caughtUp) return spec
    const listed = await listedExactly()
    if (listed) return listed
    memory.delete(memoKey!)
  }
  let fetch = Math.max(efSearch, need, memo?.share ? Math.max(Math.ceil((need * 1.5) / memo.share), filteredDepth(efSearch, memo.share)) : 0)
  if (fetch * 4 >= total) fetch = Math.max(efSearch, need)
  // The columns the filter tests, when the index's copy of them can judge it (column-copies.ts): asked for now, used
  // once the copy is at the graph's version.
  const judgedBy = spec.where ? ColumnCopies.columnsOf(spec.where, spec.from.md) : undefined
  if (judgedBy) entry.wantColumnCopies(judgedBy, 'filter')
  // Past a quarter of the rows, ranking them all exactly costs about as much as the candidates would.
  while (fetch * 4 < total) {
    const distance = await search(fetch)
    let passing = passingHere(entry, spec.where, judgedBy, [...distance.keys()])
    if (!passing) {
      // The candidates that pass the filter (and are live), with the newer rows that pass it; a huge number of newer
      // rows (a bulk write the index has not caught up with yet) makes exact search the better plan.
      // Rounded up to a multiple of 1024: the cap is the probe's limit, part of its shape, and the search width
      // varies from query to query (the share a filter's last search passed), so the probe stays one cached,
      // prepared plan.
      const cap = Math.ceil((fetch + annLimits.tailRows) / 1024) * 1024
      passing = await passingRows(db, spec, withScope(distance.keys()), cap)
      if (passing.length >= cap) return undefined
    }
    // The filter's share among the graph's candidates only: rows newer than the graph (a write it has not caught up
    // with) join `passing` unsearched, so counting them would make the filter look less selective than it is and
    // the next search shallower than it needs (a 50% filter with 2,100 new passing rows pending: one round at ef,
    // where the share asked for a second one 1.4 times as deep).
    const searched = passing.filter((key) => distance.has(key))
    const share = searched.length / fetch
    if (memoKey) remember(memory, memoKey, share, 'sampled')
    if (passing.length >= need) {
      // Enough candidates pass, but a filter's k-th row sits deeper in the index's order than the k-th row of all:
      // once, search as deep as filteredDepth asks (the next search with this filter starts there).
      const depth = filteredDepth(efSearch, share)
      // (Unfiltered, the probe only drops ended rows; a few candidates short of the depth are not worth a round.)
      if (!spec.where || fetch * 1.25 >= depth || depth * 4 >= total) return ranked(searched, distance)
      fetch = depth
      continue
    }
    if (spec.where && share * total < listBelow) {
      // Few candidates pass: the filter looks selective. List its rows (a bounded probe); when there are few, rank
      // exactly just those (cheaper than a search wide enough to find k of them). Without a scalar index listing is a
      // scan of the table (every row, vectors included) and exact ranking costs per row, so a filter estimated at
      // more than a quarter of exactRows over-fetches; with one, listing reads only the filter's rows.
      const listed = await listedExactly()
      if (listed) return listed
    }
    // The share of candidates passing the filter near this query says how many more to fetch.
    fetch = Math.max(fetch * 2, Math.ceil((need * 1.5 * fetch) / Math.max(passing.length, 1)))
  }
  return undefined
}

/**
 * How many candidates a filtered search explores when a share `share` of them passes its filter: efSearch divided
 * by the square root of the share. The filter's k nearest rows lie about 1/share times as deep in the index's order
 * as the k nearest of all, and a search's recall falls with that depth: at 100,000 × 384 (clustered, ef 80) a 50%
 * filter had recall@10 0.936 where the unfiltered search had 0.953; at ef 113 (80 / √0.5) 0.973 (BENCHMARKS.md,
 * issue 16, tenth session). The square root, not the share itself: selective filters already search wide to find
 * k passing rows (need × 1.5 / share), and 1/share would make a 10% filter explore 800.
 */
function filteredDepth(efSearch: number, share: number): number {
  return share >= 1 ? efSearch : Math.ceil(efSearch / Math.sqrt(Math.max(share, 1e-6)))
}

/**
 * Per database (its index manager), table and filter (its printed form, values included): the share of the last
 * search's candidates that passed. A filter's next search starts from it, saving a native search and a
 * probe statement per query (a 10% filter: a first round of 80 candidates found ~8 of the 20 needed; a 1% filter:
 * a round found none before listing). Only where to start: every search still checks what it found, so a stale
 * entry costs a round, never a row. Bounded; the oldest entry goes first.
 * A round's share is a sample (the candidates near one query), so it is averaged with the one before: one unlucky
 * round (a 1% filter whose 2,608 candidates held 12 passing rows, 0.46%) would otherwise make the next searches list
 * the filter's rows — a scan of the table without a scalar index, ~100 ms at 100,000 rows — and a listing leaves the
 * counted share, so the searches after it go back to the index.
 */
type FilterMemory = Map<string, { readonly share: number; readonly countedAt?: number }>
const filterMemories = new WeakMap<object, FilterMemory>()
const FILTER_MEMORY_MAX = 512

function filterMemoryOf(manager: object): FilterMemory {
  let memory = filterMemories.get(manager)
  if (!memory) filterMemories.set(manager, (memory = new Map()))
  return memory
}

/** `countedAt`: the version whose rows a counted share is exactly the share of (the index then covered every commit). */
function remember(memory: FilterMemory, key: string, share: number, how: 'sampled' | 'counted', countedAt?: number): void {
  const before = memory.get(key)
  memory.delete(key)
  memory.set(key, how === 'sampled' ? { share: before ? (before.share + share) / 2 : share } : { share, ...(countedAt === undefined ? {} : { countedAt }) })
  if (memory.size > FILTER_MEMORY_MAX) memory.delete(memory.keys().next().value!)
}

/**
 * The rows written after the covered version, as the final statement takes them: all of them through
 * ann_candidates' `after` when there are few; when there are many, each slice's nearest rows among them (exact.ts),
 * with `after` moved to the version the slices read, so only rows written since join through the subquery.
 */
async function tailCandidates(db: Queryable, spec: QuerySpec, dist: FnNode, covered: number): Promise<{ keys: string[]; after: number }> {
  const newer = await countNewerRows(db, spec.from.tableId, covered, annLimits.tailInStatement + 1)
  if (newer <= annLimits.tailInStatement) return { keys: [], after: covered }
  const onlyNewer = fnNode('ann_newer', [], { after: covered })
  const sliced = await topInSlices(db, { ...spec, where: spec.where ? fnNode('and', [spec.where, onlyNewer]) : onlyNewer }, dist)
  return sliced ? { keys: sliced.keys, after: sliced.pinned } : { keys: [], after: covered }
}

/** usearch's distance as pgvector's: 1 − cosine is the same; 1 − dot becomes −dot; squared L2 becomes L2. */
function pgDistance(metric: IndexMd['metric'], d: number): number {
  if (!Number.isFinite(d)) return 1e30
  return metric === 'ip' ? d - 1 : metric === 'l2' ? Math.sqrt(Math.max(d, 0)) : d
}

/** Comparisons an index on their column can answer (a hash index, on strings, only eq and isin). */
const INDEXABLE_TESTS = new Set(['eq', 'lt', 'le', 'gt', 'ge', 'isin'])

/**
 * Whether one of the filter's conjuncts compares a column with a scalar index (Table.addScalarIndex) to values:
 * Postgres then finds the filter's rows through that index (a bitmap scan, even without statistics) instead of
 * reading every row. A column under an `or` or a function does not count: the rows would still be read.
 */
function filterIndexed(spec: QuerySpec): boolean {
  const indexed = new Set(spec.from.md.columns.filter((c) => c.indexed).map((c) => c.name))
  if (indexed.size === 0 || !spec.where) return false
  const conjuncts = (n: ExprNode): ExprNode[] => (isFn(n) && n.fn === 'and' ? n.args.flatMap(conjuncts) : [n])
  return conjuncts(spec.where).some((n) => isFn(n) && INDEXABLE_TESTS.has(n.fn)
    && n.args.some((a) => isCol(a) && !a.prop && indexed.has(a.col))
    && n.args.filter((a) => someNode(a, isCol)).length === 1)
}

/**
 * The candidates that pass the filter, judged from the index's copy of the filter's columns without a statement:
 * only while the graph covers every commit (no newer rows, whose values the copy lacks) and holds only live rows (a
 * deleted row's key would pass here and be dropped by the final statement, leaving fewer than k). Undefined
 * otherwise, or while the copy is not at the graph's version: the store is probed.
 */
function passingHere(entry: AnnEntry, where: ExprNode | undefined, columns: readonly ColumnMd[] | undefined, keys: string[]): string[] | undefined {
  if (!where || !columns || !entry.caughtUp || !entry.liveOnly) return undefined
  return entry.columnCopies.passing(where, columns, keys, entry.version)
}

/** The _rowid of the current rows matching `where`, up to `cap` of them. */
async function passingRows(db: Queryable, spec: QuerySpec, where: ExprNode, cap?: number): Promise<string[]> {
  const probe: QuerySpec = { from: spec.from, joins: [], where, select: [{ name: 'r', expr: fnNode('ann_rowid', []) }], orderBy: [{ expr: fnNode('ann_rowid', []), desc: false }], ...(cap ? { limit: cap } : {}) }
  // Through the database's plan cache: the candidate keys are a bound parameter (functions.ts), so the probe of one
  // filter and cap is planned once and kept prepared.
  return (await executePlan(db, planCacheFor(db).plan(probe))).rows.map((r) => String(r.r))
}
