import type { TableMd } from '../catalog/index.ts'
import type { ExprNode } from './nodes/index.ts'
import type { ResultColumn } from './results.ts'

/**
 * A table as the query builder knows it: its path and the version it is read at (undefined = current). That is all
 * the builder and the JSON form need; an executor may know more (the library's QuerySource: id and schema).
 */
export interface SourceRef {
  readonly path: string
  readonly version: number | undefined
}

/** A table as the local planner reads it: its schema and the version it is read at (undefined = current). */
export interface QuerySource extends SourceRef {
  readonly tableId: number
  readonly md: TableMd
  /** The store stages updates and deletes (src/catalog/commit.ts): current reads use the two-arm visibility. */
  readonly stagedWrites?: boolean
}

export interface SelectItem {
  readonly name: string
  readonly expr: ExprNode
}

export interface OrderItem {
  readonly expr: ExprNode
  readonly desc: boolean
}

export type JoinHow = 'inner' | 'left' | 'right' | 'full' | 'cross'
export const JOIN_HOWS: readonly JoinHow[] = ['inner', 'left', 'right', 'full', 'cross']

export interface JoinItem<S extends SourceRef = QuerySource> {
  readonly source: S
  /** Absent for a cross join only. */
  readonly on?: ExprNode
  readonly how: JoinHow
}

/**
 * A bound on the work an untrusted query (one sent to the server) may ask of the store, checked before its statement
 * runs: PGlite cannot interrupt a running statement, so a query that would run for hours is refused, never started.
 * Only queries with joins are checked (work-bound.ts): a single table's query is bounded by the table.
 */
export interface WorkBound {
  /** Most rows the store's planner may estimate any join of the query to produce. */
  readonly maxJoinRows: number
  /** PostgreSQL server store only: the statement_timeout (ms) of a checked query's statement (PGlite has none). */
  readonly statementTimeoutMs?: number
}

export interface SampleSpec {
  readonly n?: number
  readonly fraction?: number
  readonly seed: number
}

/**
 * Everything a query says, as plain data: the builder produces it, an executor runs it (the planner, or POST /query
 * of its JSON form). S is how the executor knows its tables (QuerySource locally, a path over HTTP).
 */
export interface QuerySpec<S extends SourceRef = QuerySource> {
  readonly from: S
  readonly joins: readonly JoinItem<S>[]
  readonly where?: ExprNode
  readonly select?: readonly SelectItem[]
  readonly orderBy: readonly OrderItem[]
  readonly groupBy?: readonly ExprNode[]
  readonly limit?: number
  readonly offset?: number
  readonly distinct?: boolean
  readonly sample?: SampleSpec
  /** head()/tail(): order by insertion when no orderBy is given. */
  readonly insertionOrder?: 'asc' | 'desc'
  /**
   * A page of stream() by insertion order (keysetEligible): only rows inserted after the row whose _rowid is `after`,
   * and the statement returns each row's _rowid for the next page. An OFFSET made every page sort all the rows
   * before it; this reads them and keeps none. Over HTTP the request's `keyset` says the same (POST /api/v1/query,
   * src/server/routes/query.ts), and the answer's `keyset` where the next page starts.
   */
  readonly keyset?: { readonly after?: string }
  /** Settings the statement runs under, local to its transaction (pgvector's hnsw.ef_search for a top-k). */
  readonly storeSettings?: Readonly<Record<string, string | number>>
  /** Set on queries built from requests (withWorkBound): the estimate is checked before the statement runs. */
  readonly workBound?: WorkBound
  /**
   * The result, when a rewrite answered the query without the store (a top-k the native index and its copy of the
   * returned columns answer: src/index/ann/plan.ts); collect() returns it and runs no statement. The rest of the spec
   * still plans to a statement with the same rows, for whatever else runs it (count()).
   */
  readonly answered?: { readonly columns: readonly ResultColumn[]; readonly rows: readonly Record<string, unknown>[] }
}

/**
 * Whether stream() can page `spec` by insertion order, after the last row's _rowid: one table, rows in insertion
 * order (no order, grouping, distinct or sample), no offset of its own.
 */
export const keysetEligible = (spec: QuerySpec<SourceRef>): boolean =>
  spec.joins.length === 0 && spec.orderBy.length === 0 && !spec.groupBy?.length && !spec.distinct && !spec.sample && !spec.offset && (spec.insertionOrder ?? 'asc') === 'asc'

/** Every expression a query holds (where, outputs, order and group keys, join conditions): what it may read. */
export const specExpressions = (spec: QuerySpec): (ExprNode | undefined)[] =>
  [spec.where, ...(spec.select ?? []).map((s) => s.expr), ...spec.orderBy.map((o) => o.expr), ...(spec.groupBy ?? []), ...spec.joins.map((j) => j.on)]
