import type { IndexMd } from '../catalog/index.ts'
import { invalid, notFound } from '../errors.ts'
import type { Embedder } from '../inference/index.ts'
import { embedValues } from '../inference/index.ts'
import type { ExprNode, FnNode, QuerySource, QuerySpec } from '../query/index.ts'
import { colNode, fnNode, isCol, isFn, printExpr, withArgs } from '../query/index.ts'
import type { Queryable } from '../store/index.ts'
import { defaultEfSearch, exactInSlices, planAnn, vectorIndexesOf } from './ann/index.ts'
import { physicalIndexName } from './embedding-index.ts'
import { indexStatements } from './statements.ts'

// col.similarity(query) names a query, not a vector: the vector needs a model run, which cannot happen inside SQL
// planning. This rewrite runs first (QueryBackend.rewrite): it embeds each query once, replaces similarity() with
// vector_similarity() over the index's hidden column, and turns orderBy(similarity, 'desc') into
// orderBy(distance, 'asc'), the form pgvector's HNSW index answers. On a PostgreSQL server a top-k runs with
// pgvector's settings local to its own transaction (never a session SET on a pooled connection): hnsw.ef_search from
// the query's or the index's efSearch, else from the index's size (ef.ts), and iterative index scans, so a selective
// where still returns k rows.

const queryCache = new Map<string, number[]>()
const QUERY_CACHE_MAX = 256

/**
 * Session settings a database's store connections need for similarity search: keep scanning the HNSW graph until
 * enough rows pass the filter (pgvector >= 0.8), so a filtered top-k is full. The database applies them to every
 * connection when it opens (catalog/context.ts), not here on whichever connection a query happens to get.
 */
export const VECTOR_SESSION_SETTINGS: Readonly<Record<string, string>> = { 'hnsw.iterative_scan': 'relaxed_order' }

/** pgvector's bound on hnsw.ef_search, and its default. */
const PG_EF_SEARCH_MAX = 1000
const PG_EF_SEARCH_DEFAULT = 40

function walk(node: ExprNode, fn: (n: FnNode) => ExprNode | undefined): ExprNode {
  if (!isFn(node)) return node
  const replaced = fn(node)
  if (replaced) return replaced
  const args = node.args.map((a) => walk(a, fn))
  return args.every((a, i) => a === node.args[i]) ? node : withArgs(node, args)
}

function hasSimilarity(node: ExprNode | undefined): boolean {
  return !!node && isFn(node) && (node.fn === 'similarity' || node.args.some(hasSimilarity))
}

export async function rewriteSimilarity(db: Queryable, spec: QuerySpec): Promise<QuerySpec> {
  const nodes = [spec.where, ...(spec.select ?? []).map((s) => s.expr), ...spec.orderBy.map((o) => o.expr)]
  if (!nodes.some(hasSimilarity)) return spec
  const resolved = new Map<FnNode, Resolved>()
  const collect = async (node: ExprNode | undefined): Promise<void> => {
    if (!node || !isFn(node)) return
    if (node.fn === 'similarity') {
      if (!resolved.has(node)) resolved.set(node, await resolve(spec, node))
      return
    }
    for (const a of node.args) await collect(a)
  }
  for (const n of nodes) await collect(n)
  const sim = (n: ExprNode): ExprNode => walk(n, (f) => resolved.get(f)?.sim)
  const rewritten: QuerySpec = {
    ...spec,
    ...(spec.where ? { where: sim(spec.where) } : {}),
    ...(spec.select ? { select: spec.select.map((s) => ({ ...s, expr: sim(s.expr) })) } : {}),
    orderBy: spec.orderBy.map((o) => {
      const r = isFn(o.expr) ? resolved.get(o.expr) : undefined
      // Ordering by similarity descending is ordering by distance ascending: the index's own order.
      return r ? { expr: r.dist, desc: !o.desc } : { ...o, expr: sim(o.expr) }
    }),
  }
  // A top-k by similarity on the embedded store: the native index's candidates when that is the better plan.
  const top = rewritten.orderBy[0]
  const byIndex = top && [...resolved.values()].find((r) => r.dist === top.expr)
  if (!byIndex) return rewritten
  // No native index manager (a PostgreSQL server): pgvector's HNSW answers, with the ef_search hnswSettings picks.
  if (!vectorIndexesOf(db)) {
    const settings = await hnswSettings(db, byIndex, rewritten)
    return settings ? { ...rewritten, storeSettings: settings } : rewritten
  }
  // When the index does not answer (not built yet, exact: true, time travel, a filter too wide), the exact ranking
  // runs a slice of the table per statement, so reads waiting on the store come in between.
  return (await planAnn(db, rewritten, byIndex.idx, byIndex.dist, byIndex.options)) ?? exactInSlices(db, rewritten, byIndex.dist)
}

/**
 * pgvector's settings for a top-k on a server: hnsw.ef_search (at least k) from the query's efSearch, else the
 * index's, else the rule the embedded store uses (ef.ts: it grows with the index's size, here estimated from the
 * catalog's row counts), with iterative scans (which every connection of the server store has on already), which
 * keep walking the graph until enough rows pass the filter (pgvector >= 0.8). When the rule gives no more than
 * pgvector's own default (40: up to 25,000 rows with k <= 20), the statement runs as is, without a transaction.
 */
async function hnswSettings(db: Queryable, r: Resolved, spec: QuerySpec): Promise<Record<string, string | number> | undefined> {
  if (r.options.exact) return undefined
  const k = (spec.limit ?? 0) + (spec.offset ?? 0)
  const named = r.options.efSearch ?? r.idx.ann?.efSearch
  const ef = named ?? defaultEfSearch(k, await indexRows(db, r.tableId, r.idx))
  if (named === undefined && ef <= PG_EF_SEARCH_DEFAULT) return undefined
  return { 'hnsw.ef_search': Math.min(PG_EF_SEARCH_MAX, Math.max(ef, k)), 'hnsw.iterative_scan': 'relaxed_order' }
}

/** How long a server index's row estimate is reused: one catalog lookup per index every few seconds, not per query. */
const ROW_ESTIMATE_TTL_MS = 5_000
const rowEstimates = new WeakMap<Queryable, Map<string, { rows: number; at: number }>>()

async function indexRows(db: Queryable, tableId: number, idx: IndexMd): Promise<number> {
  const name = physicalIndexName(tableId, idx)
  let byIndex = rowEstimates.get(db)
  if (!byIndex) rowEstimates.set(db, (byIndex = new Map()))
  const known = byIndex.get(name)
  const now = Date.now()
  if (known && now - known.at < ROW_ESTIMATE_TTL_MS) return known.rows
  const rows = await indexStatements().estimatedRows(db, tableId, name)
  byIndex.set(name, { rows, at: now })
  return rows
}

interface Resolved {
  /** The table whose index answers. */
  readonly tableId: number
  readonly sim: FnNode
  readonly dist: FnNode
  readonly idx: IndexMd
  readonly options: { efSearch?: number; exact?: boolean }
}

/** similarity(query, { efSearch, exact }): checked here, since the options arrive as data from HTTP too. */
function searchOptions(node: FnNode): Resolved['options'] {
  const { efSearch, exact } = node.opts ?? {}
  if (efSearch !== undefined && !(Number.isInteger(efSearch) && (efSearch as number) >= 1 && (efSearch as number) <= 10_000)) {
    throw invalid('INVALID_ARGUMENT', `similarity(): efSearch must be an integer from 1 to 10000, got ${JSON.stringify(efSearch)}`)
  }
  if (exact !== undefined && typeof exact !== 'boolean') throw invalid('INVALID_ARGUMENT', `similarity(): exact must be true or false, got ${JSON.stringify(exact)}`)
  return { ...(efSearch !== undefined ? { efSearch: efSearch as number } : {}), ...(exact !== undefined ? { exact: exact as boolean } : {}) }
}

async function resolve(spec: QuerySpec, node: FnNode): Promise<Resolved> {
  const target = node.args[0]
  if (!target || !isCol(target) || target.prop) throw invalid('INVALID_EXPRESSION', `similarity() works on an indexed column, not on ${printExpr(node)}`)
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  const hit = sources
    .filter((s) => !target.tbl || s.path === target.tbl || s.path.split('/').at(-1) === target.tbl)
    .map((s) => ({ s, c: s.md.columns.find((c) => c.name === target.col && !c.hidden) }))
    .find((x) => x.c)
  if (!hit) throw notFound('COLUMN_NOT_FOUND', `unknown column '${target.col}' in ${printExpr(node)}`, { column: target.col })
  const idx = pickIndex(hit.s, hit.c!.id, target.col, node.opts?.idx)
  const vector = await queryVector(idx, node.opts?.query, node)
  const valueCol = hit.s.md.columns.find((c) => c.id === idx.valueColumnId)!
  const arg = colNode(valueCol.name, target.tbl)
  const options = searchOptions(node)
  const opts = { vector, metric: idx.metric, dims: idx.dims, ...(options.exact ? { exact: true } : {}) }
  // The native candidates only make sense for the query's own table (the planner checks it is the only one).
  const onFrom = hit.s === spec.from
  return { tableId: hit.s.tableId, sim: fnNode('vector_similarity', [arg], opts), dist: fnNode('vector_distance', [arg], opts), idx, options: onFrom ? options : { ...options, exact: true } }
}

function pickIndex(source: QuerySource, columnId: number, column: string, name: unknown): IndexMd {
  const onColumn = (source.md.indexes ?? []).filter((i) => i.columnId === columnId)
  // A past version (time travel, a snapshot) has the indexes it had then: one added later is not there to search.
  const past = source.version !== undefined
  const where = past ? `'${source.path}' at version ${source.version}` : `'${source.path}'`
  const remedy = past ? `an index added after version ${source.version} serves only later versions: search the current table` : `add one with addEmbeddingIndex('${column}', { embed })`
  if (name !== undefined) {
    const idx = onColumn.find((i) => i.name === name)
    if (!idx) throw notFound('INDEX_NOT_FOUND', `column '${column}' of ${where} has no index '${String(name)}'; its indexes are: ${onColumn.map((i) => i.name).join(', ') || `(none: ${remedy})`}`, { index: name, column, ...(past ? { version: source.version } : {}) })
    return idx
  }
  if (onColumn.length === 0) throw notFound('INDEX_NOT_FOUND', `column '${column}' of ${where} has no embedding index; ${remedy}`, { column, ...(past ? { version: source.version } : {}) })
  if (onColumn.length > 1) throw invalid('INVALID_ARGUMENT', `column '${column}' of ${where} has several indexes (${onColumn.map((i) => i.name).join(', ')}); pick one with similarity(query, { idx })`, { column })
  return onColumn[0]!
}

async function queryVector(idx: IndexMd, query: unknown, node: FnNode): Promise<number[]> {
  const q = query as Record<string, unknown> | undefined
  let vector: number[] | undefined
  let value: unknown
  let modality: 'text' | 'image'
  if (Array.isArray(query) || ArrayBuffer.isView(query) && !(query instanceof Uint8Array)) vector = Array.from(query as ArrayLike<number>)
  else if (q && typeof q === 'object' && 'vector' in q) vector = Array.from(q.vector as ArrayLike<number>)
  if (vector) {
    if (vector.length !== idx.dims) {
      throw invalid('INVALID_ARGUMENT', `similarity(): the query vector must have ${idx.dims} numbers for index '${idx.name}', got ${vector.length}`, { index: idx.name })
    }
    const bad = vector.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x))
    if (bad >= 0) throw invalid('INVALID_ARGUMENT', `similarity(): element ${bad} of the query vector is ${typeof vector[bad] === 'string' ? JSON.stringify(vector[bad]) : String(vector[bad])}, not a finite number (index '${idx.name}')`, { index: idx.name, element: bad })
    return vector
  }
  if (typeof query === 'string') [value, modality] = [query, 'text']
  else if (q && typeof q === 'object' && 'text' in q) [value, modality] = [q.text, 'text']
  else if (query instanceof Uint8Array) [value, modality] = [query, 'image']
  else if (q && typeof q === 'object' && 'image' in q) [value, modality] = [q.image, 'image']
  else throw invalid('INVALID_ARGUMENT', `similarity() takes a string, { text }, { image } or { vector }, got ${JSON.stringify(query)?.slice(0, 60)} in ${printExpr(node)}`)
  if (idx.embed.modality === 'vector') {
    throw invalid('INVALID_ARGUMENT', `index '${idx.name}' is over a column of vectors; similarity() needs a vector ({ vector: [...] } or an array) of ${idx.dims} numbers`, { index: idx.name })
  }
  if (modality !== idx.embed.modality) {
    throw invalid('INVALID_ARGUMENT', `index '${idx.name}' embeds ${idx.embed.modality}s; similarity() got a ${modality} query`, { index: idx.name })
  }
  const key = typeof value === 'string' ? `${idx.embed.fn}|${JSON.stringify(idx.embed.opts)}|${modality}|${value}` : undefined
  const cached = key ? queryCache.get(key) : undefined
  if (cached) return cached
  const [v] = await embedValues(idx.embed as Embedder, [value])
  if (key) {
    if (queryCache.size >= QUERY_CACHE_MAX) queryCache.delete(queryCache.keys().next().value!)
    queryCache.set(key, v!)
  }
  return v!
}
