import type { UpdateStatusApi } from '../api/index.ts'
import { invalid } from '../errors.ts'
import type { ExprLike } from './expr.ts'
import { Expr, toNode } from './expr.ts'
import type { ExprNode } from './nodes/index.ts'
import { colNode, fnNode, isExprNode } from './nodes/index.ts'
import { defaultName } from './output-names.ts'
import { ResultSet } from './results.ts'
import type { JoinHow, JoinItem, OrderItem, QuerySource, QuerySpec, SampleSpec, SelectItem, SourceRef, WorkBound } from './spec.ts'
import { JOIN_HOWS, keysetEligible } from './spec.ts'

// The one query builder, for the library and the HTTP client alike. It checks arguments, names outputs and builds
// the spec; an executor runs it: the local planner (local-executor.ts) or POST /api/v1/query of the spec's JSON form
// (src/client/http-executor.ts). Browser-safe: nothing here may import the planner, the store, Buffer or node:.

/** Runs what the builder built. S is how it knows tables: QuerySource (id, schema) locally, a path over HTTP. */
export interface QueryExecutor<S extends SourceRef = QuerySource> {
  /**
   * The store this executor's queries read (in process): a server refuses a query of another database that a
   * process-wide function (a retrieval function, a declared route) built for its token. Absent over HTTP.
   */
  readonly database?: unknown
  collect(spec: QuerySpec<S>): Promise<ResultSet>
  count(spec: QuerySpec<S>): Promise<number>
  /** The version of a table current now: stream() pins each table it reads there. */
  currentVersion(source: S): Promise<number>
  /**
   * For stream(): a check, run after each page, that version `version` of the table is still the one the stream
   * started on. A revert frees a version's number and the next write takes it again, so without it a stream would go
   * on with another version's rows. The check rejects when the version changed; absent where it cannot be told.
   * Where the executor can, the watch also holds the version against compaction while the stream reads it: stream()
   * calls its release when it ends, fails or is closed.
   */
  watchVersion?(source: S, version: number): Promise<VersionWatch>
  /**
   * For stream(): one page of a query in insertion order (keysetEligible), starting after the row whose _rowid is
   * `after`; returns the page and its last row's _rowid. Absent: stream() pages by offset.
   */
  keysetPage?(spec: QuerySpec<S>, after: string | undefined): Promise<KeysetPage>
  /** Absent where rows cannot be written (a past version, a snapshot). */
  update?(spec: QuerySpec<S>, values: Record<string, unknown>): Promise<UpdateStatusApi>
  delete?(spec: QuerySpec<S>): Promise<UpdateStatusApi>
}

/** QueryExecutor.watchVersion's check after each page, with the release of the version's hold where it holds one. */
export type VersionWatch = (() => Promise<void>) & { readonly release?: () => void }

/** Anything that can be joined: a table handle exposes its source (the library's by id, the client's by path). */
export interface Joinable<S extends SourceRef = QuerySource> {
  querySource(): S
}

export type SelectArg = ExprLike | Record<string, ExprLike>

/** A table reference in the JSON form: its path, with ':N' when it is read at version N. */
const tableRef = (s: SourceRef): string => (s.version === undefined ? s.path : `${s.path}:${s.version}`)

/** The JSON form of a query, as POST /api/v1/query takes it (src/api/json-query.ts reads it back into a Query). */
export interface QueryJson {
  table: string
  select?: { name: string; expr: ExprNode }[]
  where?: ExprNode
  orderBy?: { expr: ExprNode; desc: boolean }[]
  groupBy?: ExprNode[]
  limit?: number
  offset?: number
  distinct?: boolean
  sample?: SampleSpec
  joins?: { table: string; on?: ExprNode; how: JoinHow }[]
  /** Set by head(), tail() and stream() only: order by insertion where orderBy leaves rows tied (or is absent). */
  insertionOrder?: 'asc' | 'desc'
}

export function specToJson(s: QuerySpec<SourceRef>): QueryJson {
  return {
    table: tableRef(s.from),
    ...(s.select ? { select: s.select.map((i) => ({ name: i.name, expr: i.expr })) } : {}),
    ...(s.where ? { where: s.where } : {}),
    ...(s.orderBy.length ? { orderBy: s.orderBy.map((o) => ({ expr: o.expr, desc: o.desc })) } : {}),
    ...(s.groupBy ? { groupBy: [...s.groupBy] } : {}),
    ...(s.limit !== undefined ? { limit: s.limit } : {}),
    ...(s.offset !== undefined ? { offset: s.offset } : {}),
    ...(s.distinct ? { distinct: true } : {}),
    ...(s.sample ? { sample: s.sample } : {}),
    ...(s.joins.length ? { joins: s.joins.map((j) => ({ table: tableRef(j.source), ...(j.on ? { on: j.on } : {}), how: j.how })) } : {}),
    ...(s.insertionOrder ? { insertionOrder: s.insertionOrder } : {}),
  }
}

// Module-private: lets the JSON reader set what no builder method sets (insertionOrder), without a public method.
let patchSpec: <T extends Record<string, unknown>, S extends SourceRef>(q: Query<T, S>, patch: Partial<QuerySpec<S>>) => Query<T, S>
// Module-private: the store a query's executor reads (databaseOf).
let executorDatabase: (q: Query<Record<string, unknown>, SourceRef>) => unknown
// Module-private: one keyset page of a query through its executor (keysetPageOf), for POST /query's keyset pages.
let runKeysetPage: <S extends SourceRef>(q: Query<Record<string, unknown>, S>, after: string | undefined) => Promise<KeysetPage> | undefined

/** One page of stream()'s keyset paging (QueryExecutor.keysetPage): its rows and its last row's _rowid. */
export interface KeysetPage {
  readonly result: ResultSet
  readonly lastRowid?: string
}

/**
 * An immutable query builder: each method returns a new Query. Nothing runs until collect(), head(), tail(),
 * count(), first() or stream().
 */
export class Query<T extends Record<string, unknown> = Record<string, unknown>, S extends SourceRef = QuerySource> {
  static {
    patchSpec = (q, patch) => q.#with(patch)
    runKeysetPage = (q, after) => q.#executor.keysetPage?.(q.#spec, after)
    executorDatabase = (q) => q.#executor.database
  }

  readonly #spec: QuerySpec<S>
  readonly #executor: QueryExecutor<S>

  constructor(executor: QueryExecutor<S>, spec: QuerySpec<S>) {
    this.#executor = executor
    this.#spec = spec
  }

  get spec(): QuerySpec<S> {
    return this.#spec
  }

  #with(patch: Partial<QuerySpec<S>>): Query<T, S> {
    return new Query<T, S>(this.#executor, { ...this.#spec, ...patch })
  }

  where(cond: ExprLike): Query<T, S> {
    const node = toNode(cond)
    return this.#with({ where: this.#spec.where ? fnNode('and', [this.#spec.where, node]) : node })
  }

  /** select(expr, ...), select('col', ...) or select({ name: expr, ... }). */
  select<R extends Record<string, unknown> = Record<string, unknown>>(...args: SelectArg[]): Query<R, S> {
    const taken = new Set<string>()
    const items: SelectItem[] = []
    for (const a of args) {
      if (typeof a === 'string') items.push({ name: defaultName(colNode(a), taken), expr: colNode(a) })
      else if (a instanceof Expr) items.push({ name: defaultName(a.node, taken), expr: a.node })
      else if (a && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Date) && !isExprNode(a)) {
        for (const [name, e] of Object.entries(a)) {
          // A result row is a plain object: an output named so would be lost from it (src/types/names.ts; this module
          // stays browser-safe, so the three names are spelt here rather than imported from types/).
          if (name === '__proto__' || name === 'constructor' || name === 'prototype') {
            throw invalid('INVALID_NAME', `select(): invalid output name ${JSON.stringify(name)}: a reserved name (a JavaScript object, such as a row or a request body, cannot hold it as an ordinary key, so its values would be lost); choose another name`)
          }
          if (taken.has(name)) throw invalid('INVALID_ARGUMENT', `select(): output name '${name}' is used twice`)
          taken.add(name)
          items.push({ name, expr: typeof e === 'string' ? colNode(e) : toNode(e as ExprLike) })
        }
      } else {
        const node = toNode(a as ExprLike)
        items.push({ name: defaultName(node, taken), expr: node })
      }
    }
    return new Query<R, S>(this.#executor, { ...this.#spec, select: items })
  }

  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): Query<T, S> {
    const node = typeof expr === 'string' ? colNode(expr) : toNode(expr)
    const item: OrderItem = { expr: node, desc: direction === 'desc' }
    return this.#with({ orderBy: [...this.#spec.orderBy, item] })
  }

  groupBy(...exprs: ExprLike[]): Query<T, S> {
    return this.#with({ groupBy: exprs.map((e) => (typeof e === 'string' ? colNode(e) : toNode(e))) })
  }

  limit(n: number): Query<T, S> {
    return this.#with({ limit: rowCount('limit', n) })
  }

  offset(n: number): Query<T, S> {
    return this.#with({ offset: rowCount('offset', n) })
  }

  distinct(): Query<T, S> {
    return this.#with({ distinct: true })
  }

  /** A deterministic random sample: n rows, or each row with probability `fraction`, for a given seed. */
  sample(options: { n?: number; fraction?: number; seed?: number }): Query<T, S> {
    const { n, fraction, seed = 0 } = options
    if ((n === undefined) === (fraction === undefined)) throw invalid('INVALID_ARGUMENT', 'sample() needs exactly one of n or fraction')
    if (n !== undefined) rowCount('sample n', n)
    if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw invalid('INVALID_ARGUMENT', `sample fraction must be in [0, 1], got ${fraction}`)
    // The seed is a bigint parameter of the statement: a fraction or 1e300 failed in the store, naming nothing.
    if (!Number.isSafeInteger(seed)) throw invalid('INVALID_ARGUMENT', `sample seed must be an integer within ±2^53, got ${seed}`, { option: 'seed' })
    const sample: SampleSpec = { ...(n !== undefined ? { n } : {}), ...(fraction !== undefined ? { fraction } : {}), seed }
    return this.#with({ sample })
  }

  /** Joins another table: how is 'inner' (default), 'left', 'right', 'full' or 'cross' (which takes no on). */
  join(other: Joinable<S>, options: { on?: ExprLike; how?: JoinHow }): Query<T, S> {
    const how = options?.how ?? 'inner'
    if (!JOIN_HOWS.includes(how)) throw invalid('INVALID_ARGUMENT', `join how must be one of ${JOIN_HOWS.map((h) => `'${h}'`).join(', ')}, got ${JSON.stringify(how)}`, { option: 'how' })
    if (how === 'cross' && options.on !== undefined) throw invalid('INVALID_ARGUMENT', 'a cross join pairs every row with every row and takes no on; use an inner join with on, or filter with where()', { option: 'on' })
    if (how !== 'cross' && options?.on === undefined) throw invalid('INVALID_ARGUMENT', `a${how === 'inner' ? 'n' : ''} ${how} join needs on (a boolean expression over both tables); how: 'cross' joins every pair`, { option: 'on' })
    const item: JoinItem<S> = { source: other.querySource(), ...(options.on !== undefined ? { on: toNode(options.on) } : {}), how }
    return this.#with({ joins: [...this.#spec.joins, item] })
  }

  collect(): Promise<ResultSet<T>> {
    return this.#executor.collect(this.#spec) as Promise<ResultSet<T>>
  }

  /** The first n rows of the query's result, in insertion order (or the query's order), within its offset and limit. */
  head(n = 10): Promise<ResultSet<T>> {
    rowCount('head n', n)
    return this.#with({ limit: Math.min(n, this.#spec.limit ?? n), insertionOrder: 'asc' }).collect()
  }

  /** The last n rows of the query's result (within its offset and limit), in insertion order (or the query's order). */
  async tail(n = 10): Promise<ResultSet<T>> {
    rowCount('tail n', n)
    const windowed = this.#spec.offset !== undefined || this.#spec.limit !== undefined
    if (this.#spec.orderBy.length > 0 || windowed) {
      // The result's size (count() applies offset and limit); its last n rows start that far past the offset.
      const size = await this.count()
      return this.#with({ offset: (this.#spec.offset ?? 0) + Math.max(0, size - n), limit: Math.min(n, size), insertionOrder: 'asc' }).collect()
    }
    const r = await this.#with({ limit: n, insertionOrder: 'desc' }).collect()
    return new ResultSet<T>(r.columns, [...r.rows].reverse())
  }

  async first(): Promise<T | undefined> {
    return (await this.#with({ limit: 1 }).collect()).rows[0]
  }

  count(): Promise<number> {
    return this.#executor.count(this.#spec)
  }

  /**
   * Streams the result in pages without holding it all in memory. Every table read is pinned at its version current
   * when the stream starts, so concurrent writes never make it skip or repeat rows. Where the executor can tell, a
   * pinned version reverted (and its number taken by a new write) fails the stream with CONCURRENCY_CONFLICT before
   * the first row of another version. In process, the pinned versions are held against compaction until the stream
   * ends or is closed; one compacted anyway (by another process) fails the stream with VERSION_NOT_FOUND.
   */
  async *stream(options: { batchSize?: number } = {}): AsyncGenerator<T> {
    const batchSize = options.batchSize ?? 1000
    // A page size of 0 (or less, or a fraction) would step the offset by nothing and loop forever.
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalid('INVALID_ARGUMENT', `stream batchSize must be a positive integer, got ${batchSize}`)
    const checks: VersionWatch[] = []
    const pin = async (source: S): Promise<S> => {
      const version = source.version ?? (await this.#executor.currentVersion(source))
      if (this.#executor.watchVersion) checks.push(await this.#executor.watchVersion(source, version))
      return source.version !== undefined ? source : { ...source, version }
    }
    try {
      const from = await pin(this.#spec.from)
      // Versions count per table: each joined table is pinned at its own current version.
      const joins: JoinItem<S>[] = []
      for (const j of this.#spec.joins) joins.push({ ...j, source: await pin(j.source) })
      const pinned = this.#with({ from, joins, insertionOrder: this.#spec.insertionOrder ?? 'asc' })
      const end = this.#spec.limit === undefined ? Infinity : (this.#spec.offset ?? 0) + this.#spec.limit
      const pages = this.#executor.keysetPage && keysetEligible(pinned.#spec) ? pinned.#keysetPages(batchSize, end) : pinned.#offsetPages(batchSize, end)
      for await (const rows of pages) {
        // After the read: a version unchanged now was unchanged when the page was read (a reverted one never returns).
        for (const check of checks) await check()
        yield* rows
      }
    } finally {
      // Ended, failed or closed (return()): compaction may remove what only these versions saw.
      for (const check of checks) check.release?.()
    }
  }

  /** Pages after the last row's _rowid: each reads the rows after it, not all the rows before it (an OFFSET). */
  async *#keysetPages(batchSize: number, end: number): AsyncGenerator<readonly T[]> {
    let after: string | undefined
    for (let read = 0; read < end;) {
      const limit = Math.min(batchSize, end - read)
      const page = await this.#executor.keysetPage!({ ...this.#spec, limit }, after)
      yield page.result.rows as T[]
      if (page.result.rows.length < limit || page.lastRowid === undefined) return
      read += page.result.rows.length
      after = page.lastRowid
    }
  }

  async *#offsetPages(batchSize: number, end: number): AsyncGenerator<readonly T[]> {
    for (let offset = this.#spec.offset ?? 0; offset < end; offset += batchSize) {
      const page = await this.#with({ offset, limit: Math.min(batchSize, end - offset) }).collect()
      yield page.rows
      if (page.rows.length < batchSize) return
    }
  }

  /** Updates the rows this query's where() selects (single-table queries only). */
  async update(values: Record<string, unknown>): Promise<UpdateStatusApi> {
    if (!this.#executor.update || this.#spec.joins.length > 0) throw invalid('INVALID_ARGUMENT', 'update() works on a filtered table, not on joins or read-only versions')
    return this.#executor.update(this.#spec, values)
  }

  async delete(): Promise<UpdateStatusApi> {
    if (!this.#executor.delete || this.#spec.joins.length > 0) throw invalid('INVALID_ARGUMENT', 'delete() works on a filtered table, not on joins or read-only versions')
    return this.#executor.delete(this.#spec)
  }

  /** The JSON form of this query, as the HTTP API takes it. */
  toJSON(): QueryJson {
    return specToJson(this.#spec)
  }
}

/** The query ordered by insertion where its orderBy leaves rows tied: the JSON form's insertionOrder (json-query.ts). */
export function inInsertionOrder<T extends Record<string, unknown>, S extends SourceRef>(q: Query<T, S>, order: 'asc' | 'desc'): Query<T, S> {
  return patchSpec(q, { insertionOrder: order } as Partial<QuerySpec<S>>)
}

/**
 * The query, bounded: before any statement of it runs (collect, count, each page of a stream), a query with joins is
 * planned by the store and refused (413 TOO_LARGE) when a join is estimated to produce more than bound.maxJoinRows
 * rows. The server bounds every query a request sends (src/server/routes/query.ts, the MCP query tool); in-process
 * callers are trusted and unbounded unless they opt in here. Single-table queries are never checked (no extra
 * statement): their work is bounded by the table.
 */
export function withWorkBound<T extends Record<string, unknown>, S extends SourceRef>(q: Query<T, S>, bound: WorkBound): Query<T, S> {
  if (!(bound.maxJoinRows >= 1)) throw invalid('INVALID_ARGUMENT', `maxJoinRows must be a positive number, got ${bound.maxJoinRows}`, { option: 'maxJoinRows' })
  if (bound.statementTimeoutMs !== undefined && !(Number.isSafeInteger(bound.statementTimeoutMs) && bound.statementTimeoutMs >= 1)) {
    throw invalid('INVALID_ARGUMENT', `statementTimeoutMs must be a positive integer, got ${bound.statementTimeoutMs}`, { option: 'statementTimeoutMs' })
  }
  return patchSpec(q, { workBound: bound } as Partial<QuerySpec<S>>)
}

/** The store `q` reads when it runs in process (QueryExecutor.database); undefined for a query over HTTP. */
export function databaseOf<T extends Record<string, unknown>, S extends SourceRef>(q: Query<T, S>): unknown {
  return executorDatabase(q as unknown as Query<Record<string, unknown>, SourceRef>)
}

/**
 * One page of `q` in insertion order after the row whose _rowid is `after` (from the first row when undefined), as
 * stream() reads it, with the page's last row's _rowid: how POST /api/v1/query answers the keyset pages of the HTTP
 * client's stream(). The caller checks keysetEligible first; undefined where the executor cannot page so.
 */
export function keysetPageOf<T extends Record<string, unknown>, S extends SourceRef>(q: Query<T, S>, after: string | undefined): Promise<KeysetPage> | undefined {
  if (!keysetEligible(q.spec)) throw new Error('internal: keyset paging needs one table in insertion order')
  return runKeysetPage(q as unknown as Query<Record<string, unknown>, S>, after)
}

/**
 * Every row count the builder takes (limit, offset, head, tail, sample n) is checked here, once: the planner and
 * the SQL it writes can then trust them (a fraction or a negative number never reaches a LIMIT clause).
 */
function rowCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${n}`)
  return n
}
