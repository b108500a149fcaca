import { invalid } from '../errors.ts'
import type { IndexMetric } from '../catalog/index.ts'
import type { ColumnType } from '../types/index.ts'
import type { FnNode, SqlEmitter } from '../query/index.ts'
import { blockRangeSql, declareBoundOptions, expectKinds, optionLiteral, scalar, t, typeError } from '../query/index.ts'
import { indexStatements } from './statements.ts'

// SQL functions behind similarity search and full-text search. `similarity` itself is a placeholder the query
// rewrite (similarity.ts) replaces before planning, once the query's embedding is known; what reaches SQL is
// vector_distance/vector_similarity over the index's hidden column, written so pgvector's HNSW index matches.

export const DISTANCE_OP: Record<IndexMetric, string> = { cosine: '<=>', ip: '<#>', l2: '<->' }

function vecOpts(node: FnNode): { vector: number[]; metric: IndexMetric; dims: number } {
  const { vector, metric, dims } = node.opts ?? {}
  if (!Array.isArray(vector) || typeof dims !== 'number' || !(typeof metric === 'string' && metric in DISTANCE_OP)) {
    throw typeError(node, `${node.fn}() needs opts.vector, opts.dims and opts.metric (cosine, ip or l2)`)
  }
  return { vector: vector as number[], metric: metric as IndexMetric, dims }
}

/** The SQL of the index expression and of the distance a query orders by: the two must match textually. */
export const vectorCast = (sql: string, dims: number): string => `(${sql}::vector(${Math.trunc(dims)}))`

/** A bound option's parameter: the literal the shape holds for it, refilled per query by the plan cache. */
const bound = (emit: SqlEmitter, node: FnNode, name: string, type: ColumnType): string => {
  const lit = optionLiteral(node, name)
  return emit.literal ? emit.literal(lit, type) : emit.param(lit.lit, type)
}
// The query vector is data, not structure: a bound option (src/query/shape.ts), so searches with other vectors share
// one shape, plan and prepared statement (a search that selects its score has vector_similarity in its select list:
// with the vector in the shape, every such search was planned and prepared anew). It is bound as a float4 array and
// cast to pgvector's type in SQL; the shape keeps the vector's length, which the dimension check below depends on.
const VECTOR_PARAM_TYPE: ColumnType = t('array', false, { dtype: 'float32' })

// The query vector's cast sits in a scalar subquery, which Postgres runs once per execution (an InitPlan). Written
// inline, `$1::real[]::vector(n)` is folded to a constant only in a custom plan: a kept statement may switch to its
// generic plan when its estimates allow, and there the cast ran again for every row ranked (1.4–2.2 µs a row of 384
// in WASM, over a quarter of a 1%-filter search over 100,000 rows; the searches measured re-plan on each call, so
// they did not pay it; BENCHMARKS.md, fifteenth session). pgvector's HNSW index still serves an order by against a
// subquery on a PostgreSQL server (its README's nearest-neighbours-of-a-row query has this form).
const queryVectorSql = (emit: SqlEmitter, node: FnNode, dims: number): string =>
  `(select ${bound(emit, node, 'vector', VECTOR_PARAM_TYPE)}::vector(${dims}))`

function distanceSql(node: FnNode, colSql: string, emit: SqlEmitter): string {
  const { vector, metric, dims } = vecOpts(node)
  if (vector.length !== dims) throw typeError(node, `query vector has ${vector.length} dimensions, the index has ${dims}`)
  const sql = `(${vectorCast(colSql, dims)} ${DISTANCE_OP[metric]} ${queryVectorSql(emit, node, dims)})`
  // exact: an expression no HNSW index matches, so a PostgreSQL server ranks every row instead of scanning the graph.
  return node.opts?.exact === true ? `(${sql} + 0)` : sql
}

function distanceTs(node: FnNode, v: readonly number[]): number {
  const { vector, metric } = vecOpts(node)
  let dot = 0, na = 0, nb = 0, l2 = 0
  for (let i = 0; i < vector.length; i++) {
    const a = v[i] ?? 0, b = vector[i]!
    dot += a * b; na += a * a; nb += b * b; l2 += (a - b) ** 2
  }
  return metric === 'cosine' ? 1 - dot / Math.sqrt(na * nb) : metric === 'ip' ? -dot : Math.sqrt(l2)
}

scalar({
  name: 'vector_distance', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['array']), vecOpts(node), t('float', true)),
  sql: ([a], emit, node) => distanceSql(node, a!.sql, emit),
  eval: ([a], node) => distanceTs(node, a as number[]),
})

// Higher is closer: cosine similarity, inner product, or the negated L2 distance.
scalar({
  name: 'vector_similarity', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['array']), vecOpts(node), t('float', true)),
  sql: ([a], emit, node) => {
    const d = distanceSql(node, a!.sql, emit)
    return vecOpts(node).metric === 'cosine' ? `(1 - ${d})` : `(-${d})`
  },
  eval: ([a], node) => {
    const d = distanceTs(node, a as number[])
    return vecOpts(node).metric === 'cosine' ? 1 - d : -d
  },
})

// The native index's candidates for a top-k (src/index/ann/): the rows whose _rowid it listed (from the index, and
// the rows written after the version the index covers). Only planned for single-table queries, whose table is t0;
// a plain list lets the current rows' _rowid index answer. With opts.after (the version the index covers) and
// opts.table (the table's id), every current row written after that version is a candidate too, so a search needs
// no statement to list those first: they are listed by a subquery on the _v_min index (an OR of the two conditions
// would make Postgres scan every current row).
// The candidates' keys and distances and the query vector are data: each search has its own. They are bound as
// parameters through the shape's option literals (src/query/shape.ts), so the plan cache keeps one plan and one
// prepared statement per structure (k, filter, index column, covered version) and refills them per search.
const KEYS_TYPE: ColumnType = t('array', false, { dtype: 'int64' })
const DISTS_TYPE: ColumnType = t('array', false, { dtype: 'float64' })
declareBoundOptions('vector_distance', ['vector'])
declareBoundOptions('vector_similarity', ['vector'])
declareBoundOptions('ann_candidates', ['keys'])
declareBoundOptions('ann_order', ['keys', 'dists', 'query'])
declareBoundOptions('ann_rank', ['keys'])

const keyList = (node: FnNode): string => {
  if (typeof node.opts?.keys !== 'string' || !/^\{[0-9,]*\}$/.test(node.opts.keys)) throw typeError(node, `${node.fn}() needs opts.keys ({1,2})`)
  return node.opts.keys
}
const afterVersion = (node: FnNode): number | undefined => {
  const after = node.opts?.after
  if (after === undefined) return undefined
  if (!Number.isSafeInteger(after)) throw typeError(node, `${node.fn}() opts.after must be a version number`)
  return after as number
}

scalar({
  name: 'ann_candidates', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: (_types, node) => {
    keyList(node)
    if (afterVersion(node) !== undefined && !Number.isSafeInteger(node.opts?.table)) throw typeError(node, 'ann_candidates() with opts.after needs opts.table')
    return t('bool', false)
  },
  sql: (_a, emit, node) => {
    keyList(node)
    const listed = bound(emit, node, 'keys', KEYS_TYPE)
    const after = afterVersion(node)
    if (after === undefined) return `(t0._rowid = any(${listed}))`
    const newer = indexStatements().rowIdsWrittenAfter(node.opts!.table as number, after)
    return `(t0._rowid = any(array_cat(${listed}, ${newer})))`
  },
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

/** ann_order's query: the vector as pgvector's text ('[1,2,3]', opts.query), its metric and dimensions. */
function orderOpts(node: FnNode): { query: string; metric: IndexMetric; dims: number } {
  const { query, metric, dims } = node.opts ?? {}
  if (typeof query !== 'string' || !/^\[[-0-9.e,+]*\]$/i.test(query)) throw typeError(node, 'ann_order() needs opts.query ([0.1,0.2])')
  if (typeof dims === 'number' && query.split(',').length !== dims) throw typeError(node, `query vector has ${query.split(',').length} dimensions, the index has ${dims}`)
  return { query, metric: metric as IndexMetric, dims: dims as number }
}

// The order of the native path's candidates: the index's own distance (opts.dists, in the order of opts.keys) for
// the rows it holds as of version opts.after, and the exact distance between the argument (the index's column of
// vectors) and the query (opts.query, as text, metric, dims: those of the vector_distance the query orders by) for rows
// written after it. The query vector is parsed only if such a row exists: a parameter typed `vector` is parsed when
// the statement is bound (384 floats: ~2 ms in WASM Postgres, more than the rest of an unfiltered search's
// statement), so it is passed as text and cast once, on first use, in a subquery (an InitPlan runs when first
// needed; concat(), being stable, is not folded into a constant when the statement is planned).
scalar({
  name: 'ann_order', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => {
    keyList(node)
    if (afterVersion(node) === undefined) throw typeError(node, 'ann_order() needs opts.after')
    if (typeof node.opts?.dists !== 'string' || !/^\{[-0-9.e,+]*\}$/i.test(node.opts.dists)) throw typeError(node, 'ann_order() needs opts.dists ({0.1,0.2})')
    expectKinds(node, types, 0, ['array'])
    const { metric, dims } = orderOpts(node)
    if (!(metric in DISTANCE_OP) || !Number.isInteger(dims)) throw typeError(node, 'ann_order() needs opts.metric (cosine, ip or l2) and opts.dims')
    return t('float', true)
  },
  sql: ([column], emit, node) => {
    const { metric, dims } = orderOpts(node)
    const query = `(select concat(${bound(emit, node, 'query', t('string'))})::vector(${Math.trunc(dims)}))`
    const exact = `(${vectorCast(column!.sql, dims)} ${DISTANCE_OP[metric]} ${query})`
    return `(case when t0._v_min > ${afterVersion(node)} then ${exact} else (${bound(emit, node, 'dists', DISTS_TYPE)})[array_position(${bound(emit, node, 'keys', KEYS_TYPE)}, t0._rowid)] end)`
  },
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

// A block range of the table (t0): rows whose address lies in blocks [opts.from, opts.to). Postgres answers it with
// a TID range scan, so an exact top-k can rank a big table a slice of blocks at a time (src/index/ann/exact.ts).
scalar({
  name: 'ann_blocks', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: (_types, node) => {
    const { from, to } = node.opts ?? {}
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) < 0 || (to as number) < (from as number)) throw typeError(node, 'ann_blocks() needs opts.from and opts.to (block numbers, from <= to)')
    return t('bool', false)
  },
  sql: (_a, emit, node) => `(${blockRangeSql('t0', emit.param(node.opts!.from), emit.param(node.opts!.to))})`,
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

// Rows written after version opts.after (src/index/ann/plan.ts ranks a big tail of them in slices).
scalar({
  name: 'ann_newer', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: (_types, node) => {
    if (afterVersion(node) === undefined) throw typeError(node, 'ann_newer() needs opts.after')
    return t('bool', false)
  },
  sql: (_a, emit, node) => `(t0._v_min > ${emit.param(afterVersion(node))}::integer)`,
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

// The native path's row id and rank (src/index/ann/plan.ts): the candidates it ranked by the index's distances are
// fetched and ordered by their place in that list, so no vector is cast or compared in SQL.
scalar({
  name: 'ann_rowid', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: () => t('int', false),
  sql: () => 't0._rowid',
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

scalar({
  name: 'ann_rank', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: (_types, node) => {
    if (typeof node.opts?.keys !== 'string' || !/^\{[0-9,]*\}$/.test(node.opts.keys)) throw typeError(node, 'ann_rank() needs opts.keys ({1,2})')
    return t('int', true)
  },
  sql: (_a, emit, node) => `array_position(${bound(emit, node, 'keys', KEYS_TYPE)}, t0._rowid)`,
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `${node.fn}() runs in SQL only`)
  },
})

scalar({
  name: 'similarity', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string', 'image', 'binary', 'array']), t('float', true)),
  eval: (_a, node) => {
    throw invalid('INVALID_EXPRESSION', `similarity() must be resolved against an embedding index before it runs; query it through a table (in ${node.fn})`)
  },
})

// Full text: Postgres text search with a fixed configuration name (validated, inlined so a GIN index on the
// same expression can match).
function language(node: FnNode): string {
  const lang = node.opts?.language ?? 'english'
  if (typeof lang !== 'string' || !/^[a-z_]+$/.test(lang)) throw typeError(node, `${node.fn}() opts.language must be a text search configuration name like 'english' or 'simple'`)
  return lang
}

/** The document side of full-text matching; the full-text GIN index (embedding-index.ts) is on this expression. */
export const tsvectorSql = (columnSql: string, lang: string): string => `to_tsvector('${lang}'::regconfig, ${columnSql})`
const tsquerySql = (querySql: string, lang: string): string => `websearch_to_tsquery('${lang}'::regconfig, ${querySql})`

/**
 * The most words a full-text query searches for. websearch_to_tsquery makes one node per word, and PGlite (wasm,
 * whose stack check does not catch deep trees) held the store for minutes on 20,000 words, lost matches at 10,000
 * and damaged memory ("bad buffer ID" on the next statement); 5,000 took 2.3 s. A search box needs far fewer.
 */
export const MAX_QUERY_WORDS = 1_000

/** Counts a full-text query's words (whitespace-separated) and refuses one past MAX_QUERY_WORDS. */
export function checkQueryWords(what: string, query: string): void {
  let words = 0
  for (const _ of query.matchAll(/\S+/g)) if (++words > MAX_QUERY_WORDS) break
  if (words > MAX_QUERY_WORDS) throw invalid('INVALID_ARGUMENT', `${what}: the full-text query has more than ${MAX_QUERY_WORDS} words (${query.length} characters); shorten it`, { limit: MAX_QUERY_WORDS })
}

/** A literal query is checked when the expression is typed, before any SQL runs. */
function checkQueryArg(node: FnNode): void {
  const q = node.args[1]
  if (q && 'lit' in q && typeof q.lit === 'string') checkQueryWords(`${node.fn}()`, q.lit)
}

scalar({
  name: 'fts_match', minArgs: 2, maxArgs: 2, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string']), expectKinds(node, types, 1, ['string']), language(node), checkQueryArg(node), t('bool', true)),
  sql: ([a, q], _e, node) => `(${tsvectorSql(a!.sql, language(node))} @@ ${tsquerySql(q!.sql, language(node))})`,
})

scalar({
  name: 'fts_rank', minArgs: 2, maxArgs: 2, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string']), expectKinds(node, types, 1, ['string']), language(node), checkQueryArg(node), t('float', true)),
  sql: ([a, q], _e, node) => `ts_rank_cd(${tsvectorSql(a!.sql, language(node))}, ${tsquerySql(q!.sql, language(node))})::double precision`,
})

// The row's insertion id: hybrid search fuses two rankings of the same rows by it.
scalar({
  name: 'row_id', minArgs: 0, maxArgs: 0, deterministic: true,
  returnType: () => t('int', false),
  sql: () => 't0._rowid',
})
