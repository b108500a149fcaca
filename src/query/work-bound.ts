import { errorOf } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { Plan } from './planner.ts'
import type { QuerySpec } from './spec.ts'
import { dataTable, visibleAt } from './sql.ts'
import { analyzeTables, tablesLackingJoinStatistics } from './join-statistics.ts'

// The work bound of an untrusted query (QuerySpec.workBound, set by withWorkBound for queries sent to the server):
// checked before the statement runs, because PGlite cannot interrupt one that runs (WASM has no timer signal, so
// statement_timeout is ignored) and a client gone cancels nothing. Three tables of 2,000 rows cross-joined are 8e9
// rows: counted, they held the store (every tenant's reads) until the process was killed.
//
// Only shapes that can produce more rows than their tables hold are checked: queries with joins (cross joins, and
// joins on conditions that match many rows to many). A single table's query runs with no extra statement: its work is
// bounded by the table, and the point query is the hot path. A checked query costs two EXPLAINs (planning only) and
// a look at pg_stats, plus an ANALYZE of a table whose statistics lack a join column or are due (join-statistics.ts).

/** Join nodes of a PostgreSQL plan: their "Plan Rows" is the estimate of the rows the join produces. */
const JOIN_NODES = new Set(['Nested Loop', 'Hash Join', 'Merge Join'])

interface PlanNode {
  readonly 'Node Type'?: string
  readonly 'Plan Rows'?: number
  readonly 'Total Cost'?: number
  readonly 'Parent Relationship'?: string
  readonly Plans?: readonly PlanNode[]
}

/** Whether the work bound applies to this query: it has one, and a shape that can explode. */
export const needsWorkCheck = (spec: QuerySpec): boolean => spec.workBound !== undefined && spec.joins.length > 0

/**
 * The largest estimate of rows any join of the plan produces (over all the loops it runs: a join on the inner side of
 * a nested loop runs once per outer row), and the root's total cost. `factors`: by scan alias (t0, t1, …), how many
 * times more rows the table has than the planner thinks its visibility filter keeps (visibilityFactors); a join's
 * estimate is multiplied by the factors of the tables under it.
 */
export function joinEstimate(root: PlanNode, factors: ReadonlyMap<string, number> = new Map()): { rows: number; cost: number } {
  let rows = 0
  // The product of the factors of the table scans under a node (not its init plans or subplans: they run apart).
  const factorOf = (node: PlanNode): number => {
    const alias = (node as { Alias?: string }).Alias
    let f = alias !== undefined && (node as { 'Relation Name'?: string })['Relation Name'] !== undefined ? factors.get(alias) ?? 1 : 1
    for (const child of node.Plans ?? []) if (!isApart(child)) f *= factorOf(child)
    return f
  }
  const walk = (node: PlanNode, loops: number) => {
    if (JOIN_NODES.has(node['Node Type'] ?? '')) rows = Math.max(rows, (node['Plan Rows'] ?? 0) * loops * factorOf(node))
    const children = node.Plans ?? []
    const outer = children.find((c) => c['Parent Relationship'] === 'Outer')
    for (const child of children) {
      // A nested loop's inner side runs once per outer row (its Plan Rows are per loop).
      const innerLoops = node['Node Type'] === 'Nested Loop' && child['Parent Relationship'] === 'Inner' ? loops * Math.max(1, outer?.['Plan Rows'] ?? 1) : loops
      walk(child, innerLoops)
    }
  }
  walk(root, 1)
  return { rows, cost: root['Total Cost'] ?? 0 }
}

const isApart = (node: PlanNode): boolean => node['Parent Relationship'] === 'InitPlan' || node['Parent Relationship'] === 'SubPlan'

/**
 * By scan alias (t0 for the query's table, tN for its Nth join): the table's rows as the planner sizes it, over the
 * rows it estimates the visibility filter (visibleAt) keeps. PGlite runs no autovacuum, so data tables have no
 * statistics and the planner guesses the filter keeps a small fraction (three 2,000-row tables cross-joined were
 * estimated at 4.7 million rows, not 8 billion); every row but old versions passes it. One EXPLAIN for all the tables.
 */
async function visibilityFactors(db: Queryable, spec: QuerySpec): Promise<Map<string, number>> {
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  const arms = sources.flatMap((s, i) => {
    const from = `${dataTable(s.tableId)} as t${i}`
    return [`(select 1 from ${from})`, `(select 1 from ${from} where ${visibleAt(`t${i}`, s.version, s.tableId, s.stagedWrites)})`]
  })
  const members = (await explainRoot(db, arms.join(' union all '), [])).Plans?.filter((p) => !isApart(p)) ?? []
  const factors = new Map<string, number>()
  if (members.length !== arms.length) return factors
  sources.forEach((_, i) => {
    const all = members[2 * i]!['Plan Rows'] ?? 0
    const visible = members[2 * i + 1]!['Plan Rows'] ?? 0
    factors.set(`t${i}`, Math.max(1, all / Math.max(1, visible)))
  })
  return factors
}

async function explainRoot(db: Queryable, sql: string, params: readonly unknown[]): Promise<PlanNode> {
  const r = await db.query<Record<string, unknown>>(`explain (format json) ${sql}`, params)
  const cell = Object.values(r.rows[0] ?? {})[0]
  const parsed = (typeof cell === 'string' ? JSON.parse(cell) : cell) as { Plan?: PlanNode }[] | undefined
  const root = parsed?.[0]?.Plan
  if (!root) throw new Error('internal: EXPLAIN returned no plan')
  return root
}

const rowsText = (n: number): string => (n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US'))

/** QueryBackend.refreshStatistics: brings the statistics of the query's tables up to date (`lacking`: none for a join column). */
export type RefreshStatistics = (tableIds: readonly number[], lacking: ReadonlySet<number>) => Promise<void>

/**
 * Plans the statement (EXPLAIN, which runs nothing) and refuses the query, with 413 TOO_LARGE naming the estimate and
 * the limit, when a join is estimated to produce more rows than the bound allows. Call only when needsWorkCheck.
 */
export async function checkWorkBound(db: Queryable, plan: Plan, spec: QuerySpec, refreshStatistics?: RefreshStatistics): Promise<void> {
  const bound = spec.workBound!
  // An equality join estimated without statistics takes a default selectivity: too low by orders of magnitude for a
  // join column whose values repeat (join-statistics.ts). The tables are analyzed first (under 0.1 s, once).
  const lacking = await tablesLackingJoinStatistics(db, spec)
  if (refreshStatistics) await refreshStatistics([spec.from.tableId, ...spec.joins.map((j) => j.source.tableId)], lacking)
  else await analyzeTables(db, lacking)
  const root = await explainRoot(db, plan.sql, plan.params)
  const { rows, cost } = joinEstimate(root, await visibilityFactors(db, spec))
  if (rows <= bound.maxJoinRows) return
  throw errorOf('TOO_LARGE',
    `this query's joins are estimated to produce ${rowsText(rows)} rows, more than the ${rowsText(bound.maxJoinRows)} one request may ask of the store (the server's --max-join-rows): ` +
    `narrow it before it runs — join on a condition that matches few rows instead of how: 'cross', filter the joined tables with where (on columns of each table), or join fewer tables; a limit does not narrow the join itself`,
    { limit: bound.maxJoinRows, estimatedRows: Math.round(rows), estimatedCost: Math.round(cost) })
}

/** The plan with the bound's statement_timeout (PostgreSQL server store only: PGlite ignores it). */
export function withStatementTimeout(db: Queryable, plan: Plan, spec: QuerySpec): Plan {
  const ms = spec.workBound?.statementTimeoutMs
  if (ms === undefined || (db as { kind?: string }).kind !== 'postgres') return plan
  return { ...plan, storeSettings: { ...plan.storeSettings, statement_timeout: ms } }
}
