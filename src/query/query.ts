import { invalid } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import { executePlan } from './executor.ts'
import type { ExprLike } from './expr.ts'
import { Expr, toNode } from './expr.ts'
import type { ExprNode } from './nodes/index.ts'
import { colNode, fnNode, isExprNode, litNode } from './nodes/index.ts'
import { defaultName, planQuery } from './planner.ts'
import { planCacheFor } from './plan-cache.ts'
import type { PlanCache } from './plan-cache.ts'
import { ResultSet } from './results.ts'
import { translateQueryError } from './sql-errors.ts'
import type { JoinHow, JoinItem, OrderItem, QuerySource, QuerySpec, SampleSpec, SelectItem } from './spec.ts'
import { JOIN_HOWS } from './spec.ts'

/** What a query needs from the catalog: a connection, the current version to pin streams, and mutation hooks. */
export interface QueryBackend {
  readonly db: Queryable
  currentVersion(tableId: number): Promise<number>
  update?(where: ExprNode | undefined, values: Record<string, unknown>): Promise<unknown>
  delete?(where: ExprNode | undefined): Promise<unknown>
  /** Async work a query needs before SQL planning (embedding a similarity() query); returns the spec to plan. */
  rewrite?(spec: QuerySpec): Promise<QuerySpec>
  /** Runs a query's work (rewrite, statement, evaluation) in its database's execution context (catalog/context.ts). */
  run?<R>(fn: () => Promise<R>): Promise<R>
  /** Plans by shape for this database; by default the one kept for `db` (plan-cache.ts). */
  readonly planCache?: PlanCache
}

/** Anything that can be joined: a Table handle exposes its source. */
export interface Joinable {
  querySource(): QuerySource
}

export type SelectArg = ExprLike | Record<string, ExprLike>

/**
 * An immutable query builder: each method returns a new Query. Nothing runs until collect(), head(), tail(),
 * count(), first() or stream().
 */
export class Query<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly #spec: QuerySpec
  readonly #backend: QueryBackend

  constructor(backend: QueryBackend, spec: QuerySpec) {
    this.#backend = backend
    this.#spec = spec
  }

  get spec(): QuerySpec {
    return this.#spec
  }

  #with(patch: Partial<QuerySpec>): Query<T> {
    return new Query<T>(this.#backend, { ...this.#spec, ...patch })
  }

  where(cond: ExprLike): Query<T> {
    const node = toNode(cond)
    return this.#with({ where: this.#spec.where ? fnNode('and', [this.#spec.where, node]) : node })
  }

  /** select(expr, ...), select('col', ...) or select({ name: expr, ... }). */
  select<R extends Record<string, unknown> = Record<string, unknown>>(...args: SelectArg[]): Query<R> {
    const taken = new Set<string>()
    const items: SelectItem[] = []
    for (const a of args) {
      if (typeof a === 'string') items.push({ name: defaultName(colNode(a), taken), expr: colNode(a) })
      else if (a instanceof Expr) items.push({ name: defaultName(a.node, taken), expr: a.node })
      else if (a && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Date) && !isExprNode(a)) {
        for (const [name, e] of Object.entries(a)) {
          if (taken.has(name)) throw invalid('INVALID_ARGUMENT', `select(): output name '${name}' is used twice`)
          taken.add(name)
          items.push({ name, expr: typeof e === 'string' ? colNode(e) : toNode(e as ExprLike) })
        }
      } else {
        const node = toNode(a as ExprLike)
        items.push({ name: defaultName(node, taken), expr: node })
      }
    }
    return new Query<R>(this.#backend, { ...this.#spec, select: items })
  }

  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): Query<T> {
    const node = typeof expr === 'string' ? colNode(expr) : toNode(expr)
    const item: OrderItem = { expr: node, desc: direction === 'desc' }
    return this.#with({ orderBy: [...this.#spec.orderBy, item] })
  }

  groupBy(...exprs: ExprLike[]): Query<T> {
    return this.#with({ groupBy: exprs.map((e) => (typeof e === 'string' ? colNode(e) : toNode(e))) })
  }

  limit(n: number): Query<T> {
    return this.#with({ limit: rowCount('limit', n) })
  }

  offset(n: number): Query<T> {
    return this.#with({ offset: rowCount('offset', n) })
  }

  distinct(): Query<T> {
    return this.#with({ distinct: true })
  }

  /** A deterministic random sample: n rows, or each row with probability `fraction`, for a given seed. */
  sample(options: { n?: number; fraction?: number; seed?: number }): Query<T> {
    const { n, fraction, seed = 0 } = options
    if ((n === undefined) === (fraction === undefined)) throw invalid('INVALID_ARGUMENT', 'sample() needs exactly one of n or fraction')
    if (n !== undefined) rowCount('sample n', n)
    if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw invalid('INVALID_ARGUMENT', `sample fraction must be in [0, 1], got ${fraction}`)
    const sample: SampleSpec = { ...(n !== undefined ? { n } : {}), ...(fraction !== undefined ? { fraction } : {}), seed }
    return this.#with({ sample })
  }

  /** Joins another table: how is 'inner' (default), 'left', 'right', 'full' or 'cross' (which takes no on). */
  join(other: Joinable, options: { on?: ExprLike; how?: JoinHow }): Query<T> {
    const how = options?.how ?? 'inner'
    if (!JOIN_HOWS.includes(how)) throw invalid('INVALID_ARGUMENT', `join how must be one of ${JOIN_HOWS.map((h) => `'${h}'`).join(', ')}, got ${JSON.stringify(how)}`, { option: 'how' })
    if (how === 'cross' && options.on !== undefined) throw invalid('INVALID_ARGUMENT', 'a cross join pairs every row with every row and takes no on; use an inner join with on, or filter with where()', { option: 'on' })
    if (how !== 'cross' && options?.on === undefined) throw invalid('INVALID_ARGUMENT', `a${how === 'inner' ? 'n' : ''} ${how} join needs on (a boolean expression over both tables); how: 'cross' joins every pair`, { option: 'on' })
    const item: JoinItem = { source: other.querySource(), ...(options.on !== undefined ? { on: toNode(options.on) } : {}), how }
    return this.#with({ joins: [...this.#spec.joins, item] })
  }

  async #rewritten(): Promise<QuerySpec> {
    return this.#backend.rewrite ? this.#backend.rewrite(this.#spec) : this.#spec
  }

  collect(): Promise<ResultSet<T>> {
    return this.#backend.run ? this.#backend.run(() => this.#collect()) : this.#collect()
  }

  async #collect(): Promise<ResultSet<T>> {
    const spec = await this.#rewritten()
    const plans = this.#backend.planCache ?? planCacheFor(this.#backend.db)
    const { columns, rows } = await executePlan(this.#backend.db, plans.plan(spec)).catch((e) => Promise.reject(translateQueryError(e, spec)))
    return new ResultSet<T>(columns, rows as T[])
  }

  /** The first n rows in insertion order (or the query's order). */
  head(n = 10): Promise<ResultSet<T>> {
    rowCount('head n', n)
    return this.#with({ limit: n, insertionOrder: 'asc' }).collect()
  }

  /** The last n rows in insertion order, oldest first. */
  async tail(n = 10): Promise<ResultSet<T>> {
    rowCount('tail n', n)
    if (this.#spec.orderBy.length > 0) {
      const total = await this.count()
      return this.#with({ offset: Math.max(0, total - n), limit: n }).collect()
    }
    const r = await this.#with({ limit: n, insertionOrder: 'desc' }).collect()
    return new ResultSet<T>(r.columns, [...r.rows].reverse())
  }

  async first(): Promise<T | undefined> {
    return (await this.#with({ limit: 1 }).collect()).rows[0]
  }

  count(): Promise<number> {
    return this.#backend.run ? this.#backend.run(() => this.#count()) : this.#count()
  }

  async #count(): Promise<number> {
    const grouped = (this.#spec.groupBy?.length ?? 0) > 0 || this.#spec.distinct
    const spec = await this.#rewritten()
    const plan = planQuery(grouped ? spec : { ...spec, select: [{ name: 'n', expr: litNode(1) }], orderBy: [] })
    if (plan.tsWhere.length > 0 || grouped || this.#spec.limit !== undefined || this.#spec.sample?.n !== undefined) {
      return (await executePlan(this.#backend.db, plan).catch((e) => Promise.reject(translateQueryError(e, spec)))).rows.length
    }
    const r = await this.#backend.db.query<{ n: number }>(`select count(*)::int as n from (${plan.sql}) as q`, plan.params).catch((e) => Promise.reject(translateQueryError(e, spec)))
    return r.rows[0]!.n
  }

  /**
   * Streams the result in pages without holding it all in memory. The read is pinned at the version current when
   * the stream starts, so concurrent writes never make it skip or repeat rows.
   */
  async *stream(options: { batchSize?: number } = {}): AsyncGenerator<T> {
    const batchSize = options.batchSize ?? 1000
    // A page size of 0 (or less, or a fraction) would step the offset by nothing and loop forever.
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalid('INVALID_ARGUMENT', `stream batchSize must be a positive integer, got ${batchSize}`)
    const from = this.#spec.from
    const version = from.version ?? (await this.#backend.currentVersion(from.tableId))
    const joins = this.#spec.joins.map((j) => ({ ...j, source: { ...j.source, version: j.source.version ?? version } }))
    const pinned = this.#with({ from: { ...from, version }, joins, insertionOrder: this.#spec.insertionOrder ?? 'asc' })
    const end = this.#spec.limit === undefined ? Infinity : (this.#spec.offset ?? 0) + this.#spec.limit
    for (let offset = this.#spec.offset ?? 0; offset < end; offset += batchSize) {
      const page = await pinned.#with({ offset, limit: Math.min(batchSize, end - offset) }).collect()
      yield* page.rows
      if (page.rows.length < batchSize) return
    }
  }

  /** Updates the rows this query's where() selects (single-table queries only). */
  async update(values: Record<string, unknown>): Promise<unknown> {
    if (!this.#backend.update || this.#spec.joins.length > 0) throw invalid('INVALID_ARGUMENT', 'update() works on a filtered table, not on joins or read-only versions')
    return this.#backend.update(this.#spec.where, values)
  }

  async delete(): Promise<unknown> {
    if (!this.#backend.delete || this.#spec.joins.length > 0) throw invalid('INVALID_ARGUMENT', 'delete() works on a filtered table, not on joins or read-only versions')
    return this.#backend.delete(this.#spec.where)
  }

  /** The JSON form of this query, as the HTTP API takes it. */
  toJSON(): Record<string, unknown> {
    const s = this.#spec
    return {
      table: s.from.version === undefined ? s.from.path : `${s.from.path}:${s.from.version}`,
      ...(s.select ? { select: s.select.map((i) => ({ name: i.name, expr: i.expr })) } : {}),
      ...(s.where ? { where: s.where } : {}),
      ...(s.orderBy.length ? { orderBy: s.orderBy.map((o) => ({ expr: o.expr, desc: o.desc })) } : {}),
      ...(s.groupBy ? { groupBy: s.groupBy } : {}),
      ...(s.limit !== undefined ? { limit: s.limit } : {}),
      ...(s.offset !== undefined ? { offset: s.offset } : {}),
      ...(s.distinct ? { distinct: true } : {}),
      ...(s.sample ? { sample: s.sample } : {}),
      ...(s.joins.length ? { joins: s.joins.map((j) => ({ table: j.source.version === undefined ? j.source.path : `${j.source.path}:${j.source.version}`, ...(j.on ? { on: j.on } : {}), how: j.how })) } : {}),
    }
  }
}

/**
 * Every row count the builder takes (limit, offset, head, tail, sample n) is checked here, once: the planner and
 * the SQL it writes can then trust them (a fraction or a negative number never reaches a LIMIT clause).
 */
function rowCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${n}`)
  return n
}
