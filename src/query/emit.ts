import { compileExpr } from './compiler.ts'
import type { ExprNode } from './nodes/index.ts'
import { someNode } from './nodes/index.ts'
import type { LogicalSelect, LogicalSource, OrderKey } from './logical-plan.ts'
import type { SourceScope } from './scope.ts'
import type { ParamList } from './sql.ts'
import { dataTable, hiddenRowsBound, visibleAt } from './sql.ts'
import { containsAggregate } from './typecheck.ts'

// The statement emitter: writes the one SELECT of a logical plan (logical-plan.ts). Expressions go through the
// compiler (values as $n); tables, versions and visibility through sql.ts. Parts are compiled in a fixed order —
// select list, where, sample, joins, group by, order by — so parameters number the same for the same plan.

const INT = { kind: 'int', nullable: false } as const
const FLOAT = { kind: 'float', nullable: false } as const
/** The largest limit + offset a top-N query sorts whole table rows for (topNFirst): the rows it keeps are copied twice. */
export const TOP_N_WHOLE_ROWS = 1000
/** The select-list key of each row's _rowid in a keyset page (QuerySpec.keyset). */
export const KEYSET_ROWID = '_rowid'
const JOIN_SQL = { inner: 'join', left: 'left join', right: 'right join', full: 'full join', cross: 'cross join' } as const

export function emitSelect(s: LogicalSelect, scope: SourceScope, params: ParamList): string {
  const derived = s.visibilityInDerivedTables
  const table = (t: LogicalSource): string =>
    derived ? `(select * from ${dataTable(t.tableId)} as ${t.alias} where ${visibleAt(t.alias, t.version, t.tableId, t.stagedWrites)}) as ${t.alias}` : `${dataTable(t.tableId)} as ${t.alias}`

  const columns = s.columns.map((c) => `${compileExpr(c.node, scope, params)} as "${c.key}"`)
  if (s.keyset) columns.push(`t0._rowid as "${KEYSET_ROWID}"`)
  if (columns.length === 0) columns.push('1 as "_none"')

  const where = derived ? ['true'] : [visibleAt(s.from.alias, s.from.version, s.from.tableId, s.from.stagedWrites)]
  for (const c of s.where) where.push(compileExpr(c, scope, params))
  if (s.keyset?.after !== undefined) where.push(`t0._rowid > ${params.param(s.keyset.after)}::bigint`)
  if (s.sampleFraction) {
    where.push(`(abs(hashtextextended(t0._rowid::text, ${params.param(s.sampleFraction.seed, INT)})) / 9223372036854775807.0) < ${params.param(s.sampleFraction.fraction, FLOAT)}`)
  }

  const from = [table(s.from)]
  for (const j of s.joins) {
    if (j.how === 'cross' || !j.on) {
      from.push(`cross join ${table(j)}`)
      if (!derived) where.push(visibleAt(j.alias, j.version, j.tableId, j.stagedWrites))
      continue
    }
    from.push(`${JOIN_SQL[j.how]} ${table(j)} on ${derived ? '' : `${visibleAt(j.alias, j.version, j.tableId, j.stagedWrites)} and `}${compileExpr(j.on, scope, params)}`)
  }

  // A group key (or a grouped query's sort key) with a literal that is also an output goes by its position: compiled twice, a literal in it would be two different
  // parameters, and Postgres would not see the output as grouped (`select a = $1 ... group by a = $2` fails).
  const sameAs = (g: ExprNode) => { const text = JSON.stringify(g); return s.columns.findIndex((c) => JSON.stringify(c.node) === text) }
  const groupKey = (g: ExprNode) => { const i = someNode(g, (n) => 'lit' in n) ? sameAs(g) : -1; return i >= 0 ? String(i + 1) : compileExpr(g, scope, params) }
  const group = s.groupBy.length > 0 ? ` group by ${s.groupBy.map(groupKey).join(', ')}` : ''
  const orderKey = (k: OrderKey): string =>
    k.kind === 'expr' ? `${s.groupBy.length > 0 ? groupKey(k.node) : compileExpr(k.node, scope, params)} ${k.desc ? 'desc' : 'asc'}`
      : k.kind === 'rowid' ? `t0._rowid ${k.dir}`
      : `hashtextextended(t0._rowid::text, ${params.param(k.seed, INT)})`
  const order = s.orderBy.length > 0 ? ` order by ${s.orderBy.map(orderKey).join(', ')}` : ''
  const limit = (s.limit !== undefined ? ` limit ${Math.max(0, Math.trunc(s.limit))}` : '') + (s.offset ? ` offset ${Math.max(0, Math.trunc(s.offset))}` : '')

  if (topNFirst(s, [...columns, order])) {
    // The select list and the sort key again over the kept rows, under the same alias: their SQL is unchanged.
    const outerOrder = ` order by ${s.orderBy.map(orderKey).join(', ')}`
    const top = s.from.version === undefined
      ? lateVisibility(s, where, order, limit)
      : `_top as materialized (select t0.* from ${from.join(' ')} where ${where.join(' and ')}${order}${limit})`
    return `with ${top} select ${columns.join(', ')} from _top as t0${outerOrder}`
  }
  return `select${s.distinct ? ' distinct' : ''} ${columns.join(', ')} from ${from.join(' ')} where ${where.join(' and ')}${group}${order}${limit}`
}

/** The most hidden row versions (ended or staged) a top-N read sorts past before it filters them out (lateVisibility). */
export const LATE_VISIBILITY_MAX_HIDDEN = 1000

/**
 * The `_top` CTE of a current top-N read (topNFirst) that checks visibility on the rows it keeps, not on every row it
 * scans: a filter on every row costs PGlite more than the sort itself. The sort keeps limit + offset + h rows, h the
 * count of row versions a current read may have to leave out (hiddenRowsBound): at most h of them are hidden, so the
 * visible rows among them include the first limit + offset visible ones in sort order. Above
 * LATE_VISIBILITY_MAX_HIDDEN hidden versions (history not yet compacted, a staged write in progress) the second arm
 * filters every row as before. Measured on 100k rows, `orderBy(score).limit(10)` (raw SQL 11.5 ms): 19.0 ms before,
 * 13.7 with no hidden rows, 15.9 with 1,500, 19.6 with 3,000 (the second arm, plus the count); BENCHMARKS.md, issue 22.
 * `where[0]` is the table's visibility; the rest are the query's own filters.
 */
function lateVisibility(s: LogicalSelect, where: readonly string[], order: string, limit: string): string {
  const table = `${dataTable(s.from.tableId)} as t0`
  const [visible, ...filters] = where
  const kept = (s.limit ?? 0) + (s.offset ?? 0)
  const hidden = '(select n from _hidden)'
  const filtered = filters.length > 0 ? ` where ${filters.join(' and ')}` : ''
  // The arm not taken gets limit 0, which Postgres answers without running the scan below it. (A one-time filter
  // in WHERE would do the same, but its Result node projected every row of the arm that runs: 100k rows, 37 ms.)
  const late = `select * from (select t0.* from ${table}${filtered}${order} limit case when ${hidden} <= ${LATE_VISIBILITY_MAX_HIDDEN} then ${kept} + ${hidden} else 0 end) as t0 where ${visible}`
  const early = `select t0.* from ${table} where ${where.join(' and ')}${order} limit case when ${hidden} > ${LATE_VISIBILITY_MAX_HIDDEN} then ${kept} else 0 end`
  return `_hidden as materialized (${hiddenRowsBound(s.from.tableId, LATE_VISIBILITY_MAX_HIDDEN)}), ` +
    `_top as materialized (select t0.* from ((${late}) union all (${early})) as t0${order}${limit})`
}

/**
 * A top-N query over one table (order by + a small limit) sorts whole stored rows and computes its select list over
 * the N rows kept, not over every row scanned: Postgres copies each scanned row into the sort, and a row that is the
 * table's own tuple (`t0.*`) is copied whole in one go, while a projected one (the outputs without _rowid and the
 * version columns) is taken apart and built anew first. Measured on 100k rows, `orderBy(score).limit(10)`: 21.8 →
 * 14.5 ms, raw SQL on a table without the version columns 13.5 ms (BENCHMARKS.md, issue 22). A materialized CTE,
 * because a subquery's unused columns are pruned by the planner, which brings the projection back; big values stay
 * TOAST pointers in the sort and are read only if an output uses them. Not for tables with an array column (below).
 */
function topNFirst(s: LogicalSelect, sqlAfterScan: readonly string[]): boolean {
  if (s.orderBy.length === 0 || s.limit === undefined || s.limit + (s.offset ?? 0) > TOP_N_WHOLE_ROWS) return false
  if (s.distinct || s.joins.length > 0 || s.groupBy.length > 0 || s.visibilityInDerivedTables) return false
  // A vector held in the row (1.5 kB at 384 dimensions) is copied with it: on 30k rows with one, the whole-row sort
  // took 20.3 / 25.9 ms against 17.2 / 24.5 projected (quiet machine, BENCHMARKS.md issue 22).
  if (s.from.arrayColumns) return false
  if (s.columns.some((c) => containsAggregate(c.node)) || s.orderBy.some((k) => k.kind === 'expr' && containsAggregate(k.node))) return false
  // System columns are not part of `t0.*`: the select list and the sort key must not read them.
  return !sqlAfterScan.some((c) => /\bt0\.(ctid|xmin|xmax|tableoid)\b/.test(c))
}
