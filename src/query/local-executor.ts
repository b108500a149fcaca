import type { UpdateStatusApi } from '../api/index.ts'
import type { Queryable } from '../store/index.ts'
import { executePlan } from './executor.ts'
import type { ExprNode } from './nodes/index.ts'
import { litNode } from './nodes/index.ts'
import { planQuery } from './planner.ts'
import type { Plan } from './planner.ts'
import { planCacheFor } from './plan-cache.ts'
import type { PlanCache } from './plan-cache.ts'
import type { QueryExecutor, VersionWatch } from './query.ts'
import { ResultSet } from './results.ts'
import { translateQueryError } from './sql-errors.ts'
import { containsAggregate } from './typecheck.ts'
import { checkWorkBound, needsWorkCheck, withStatementTimeout } from './work-bound.ts'
import { withSettings } from './executor.ts'
import { conflict, notFound } from '../errors.ts'
import type { QuerySource, QuerySpec } from './spec.ts'

// The in-process executor of the one query builder (query.ts): plans by shape (plan-cache.ts), rewrites similarity
// queries first, runs the statement and the TypeScript work in the database's execution context.

/** What a query needs from the catalog: a connection, the current version to pin streams, and mutation hooks. */
export interface QueryBackend {
  readonly db: Queryable
  /** The current version of a table of this database (stream() pins every table it reads). */
  currentVersion(tableId: number): Promise<number>
  /** What tells one commit of a version from another that took its number after a revert; undefined: no such version. */
  versionStamp?(tableId: number, version: number): Promise<string | undefined>
  /**
   * Holds version `version` of a table against compaction in this process while a stream reads it (renewed after
   * each page, released when the stream ends).
   */
  holdVersion?(tableId: number, version: number): { renew(): void; release(): void }
  /** Whether compaction left the rows of version `version` of a table (false: removed, by another process). */
  versionRetained?(tableId: number, version: number): Promise<boolean>
  update?(where: ExprNode | undefined, values: Record<string, unknown>): Promise<UpdateStatusApi>
  delete?(where: ExprNode | undefined): Promise<UpdateStatusApi>
  /** Async work a query needs before SQL planning (embedding a similarity() query); returns the spec to plan. */
  rewrite?(spec: QuerySpec): Promise<QuerySpec>
  /**
   * Runs a query's work (rewrite, statement, evaluation) in its database's execution context (catalog/context.ts);
   * `spec`: the query it runs, when there is one.
   */
  run?<R>(fn: () => Promise<R>, spec?: QuerySpec): Promise<R>
  /** Plans by shape for this database; by default the one kept for `db` (plan-cache.ts). */
  readonly planCache?: PlanCache
  /**
   * Brings the planner's statistics of these data tables up to date before the join bound estimates with them
   * (work-bound.ts): `lacking` have none for a column the query joins on. Without it the bound runs ANALYZE itself.
   */
  refreshStatistics?(tableIds: readonly number[], lacking: ReadonlySet<number>): Promise<void>
}

export class LocalExecutor implements QueryExecutor<QuerySource> {
  readonly #backend: QueryBackend
  readonly update?: (spec: QuerySpec, values: Record<string, unknown>) => Promise<UpdateStatusApi>
  readonly delete?: (spec: QuerySpec) => Promise<UpdateStatusApi>
  readonly watchVersion?: (source: QuerySource, version: number) => Promise<VersionWatch>
  readonly database: Queryable

  constructor(backend: QueryBackend) {
    this.#backend = backend
    this.database = backend.db
    const { update, delete: del, versionStamp, holdVersion, versionRetained } = backend
    if (update) this.update = (spec, values) => update(spec.where, values)
    if (del) this.delete = (spec) => del(spec.where)
    if (versionStamp || holdVersion || versionRetained) this.watchVersion = (source, version) => this.#watchVersion(source, version)
  }

  collect(spec: QuerySpec): Promise<ResultSet> {
    return this.#backend.run ? this.#backend.run(() => this.#collect(spec), spec) : this.#collect(spec)
  }

  count(spec: QuerySpec): Promise<number> {
    return this.#backend.run ? this.#backend.run(() => this.#count(spec), spec) : this.#count(spec)
  }

  currentVersion(source: QuerySource): Promise<number> {
    return this.#backend.currentVersion(source.tableId)
  }

  /**
   * The version is held (against compaction in this process) before its stamp is read; after each page the hold is
   * renewed and the version checked: reverted (its stamp changed), or its rows removed by a compaction that did not
   * see the hold (another process on the same store). Both are told after the page is read, and compaction records
   * its decision before it removes a row: a page read before it is whole, one read after is never returned.
   */
  async #watchVersion(source: QuerySource, version: number): Promise<VersionWatch> {
    const { versionStamp, holdVersion, versionRetained } = this.#backend
    const hold = holdVersion?.(source.tableId, version)
    try {
      const pinned = versionStamp ? await versionStamp(source.tableId, version) : undefined
      const check = async () => {
        hold?.renew()
        if (versionStamp && (await versionStamp(source.tableId, version)) !== pinned) {
          throw conflict('CONCURRENCY_CONFLICT', `version ${version} of '${source.path}' was reverted while a stream read it: its other rows are gone (the number may be a newer write's now); start the stream again`, { path: source.path, version })
        }
        if (versionRetained && !(await versionRetained(source.tableId, version))) {
          throw notFound('VERSION_NOT_FOUND', `version ${version} of '${source.path}' was removed by compaction while a stream read it (another process compacted the table): its other rows are gone; start the stream again to read the current version`, { path: source.path, version })
        }
      }
      return hold ? Object.assign(check, { release: hold.release }) : check
    } catch (e) {
      hold?.release()
      throw e
    }
  }

  async #rewritten(spec: QuerySpec): Promise<QuerySpec> {
    return this.#backend.rewrite ? this.#backend.rewrite(spec) : spec
  }

  async #collect(query: QuerySpec): Promise<ResultSet> {
    return (await this.#page(query)).result
  }

  keysetPage(spec: QuerySpec, after: string | undefined): Promise<{ result: ResultSet; lastRowid?: string }> {
    const page = { ...spec, keyset: after === undefined ? {} : { after } }
    return this.#backend.run ? this.#backend.run(() => this.#page(page), page) : this.#page(page)
  }

  async #page(query: QuerySpec): Promise<{ result: ResultSet; lastRowid?: string }> {
    const spec = await this.#rewritten(query)
    if (spec.answered) return { result: new ResultSet(spec.answered.columns, spec.answered.rows) }
    const plans = this.#backend.planCache ?? planCacheFor(this.#backend.db)
    const plan = await this.#bounded(plans.plan(spec), spec)
    const { columns, rows, lastRowid } = await executePlan(this.#backend.db, plan).catch((e) => Promise.reject(translateQueryError(e, spec)))
    return { result: new ResultSet(columns, rows), ...(lastRowid !== undefined ? { lastRowid } : {}) }
  }

  async #count(query: QuerySpec): Promise<number> {
    // Grouped rows are counted as the query returns them: an aggregate select without group_by is one row (it was
    // counted as the rows it aggregates).
    const grouped = (query.groupBy?.length ?? 0) > 0 || query.distinct || (query.select ?? []).some((i) => containsAggregate(i.expr))
    const spec = await this.#rewritten(query)
    const plan = await this.#bounded(planQuery(grouped ? spec : { ...spec, select: [{ name: 'n', expr: litNode(1) }], orderBy: [] }), spec)
    if (plan.tsWhere.length > 0 || grouped || query.limit !== undefined || query.sample?.n !== undefined) {
      return (await executePlan(this.#backend.db, plan).catch((e) => Promise.reject(translateQueryError(e, spec)))).rows.length
    }
    const db = this.#backend.db
    const sql = `select count(*)::int as n from (${plan.sql}) as q`
    const r = await (plan.storeSettings ? withSettings(db, plan.storeSettings, (q) => q.query<{ n: number }>(sql, plan.params)) : db.query<{ n: number }>(sql, plan.params))
      .catch((e) => Promise.reject(translateQueryError(e, spec)))
    return r.rows[0]!.n
  }

  /**
   * A bounded query (QuerySpec.workBound, one sent to the server) with joins: refused before it runs when the store's
   * planner estimates a join beyond the bound, and run under the bound's statement_timeout on a PostgreSQL server.
   * Anything else is returned as it is, with no extra statement.
   */
  async #bounded(plan: Plan, spec: QuerySpec): Promise<Plan> {
    if (!needsWorkCheck(spec)) return plan
    await checkWorkBound(this.#backend.db, plan, spec, this.#backend.refreshStatistics).catch((e) => Promise.reject(translateQueryError(e, spec)))
    return withStatementTimeout(this.#backend.db, plan, spec)
  }
}
