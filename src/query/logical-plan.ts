import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { parseType } from '../types/index.ts'
import { isSqlExpr } from './compiler.ts'
import type { ExprNode } from './nodes/index.ts'
import { colNode, isCol, isFn, isLit, printExpr } from './nodes/index.ts'
import { functions } from './registry.ts'
import { SourceScope } from './scope.ts'
import { keysetEligible } from './spec.ts'
import type { JoinHow, QuerySpec } from './spec.ts'
import { containsAggregate, typeOf } from './typecheck.ts'
import { inlineUnstored, inlineUnstoredSpec } from './unstored.ts'

// The logical plan of a query: every decision the planner makes — which parts run in SQL and which in TypeScript,
// where each table's visibility goes, which leaves TypeScript needs, the sort keys and tie-breaks, where paging
// applies — as data, with every expression type-checked. No SQL text: emit.ts writes the one statement from it.

export interface PlannedOutput {
  readonly name: string
  readonly type: ColumnType
  /** Column key of the SQL result holding the value, or undefined when the value is computed in TypeScript. */
  readonly sqlKey?: string
  readonly node: ExprNode
}

/** A table read by the statement, at a version (undefined: the current, committed one). */
export interface LogicalSource {
  readonly tableId: number
  readonly alias: string
  readonly version: number | undefined
  /** The store stages updates and deletes: current reads use the two-arm visibility (sql.ts visibleAt). */
  readonly stagedWrites?: boolean
  /**
   * The table stores an array column (a vector: every embedding index keeps one), often a kilobyte or more held in
   * the row itself: copying whole rows then costs more than projecting the outputs (emit.ts, topNFirst).
   */
  readonly arrayColumns?: boolean
}

export interface LogicalJoin extends LogicalSource {
  readonly how: JoinHow
  /** Absent for a cross join. */
  readonly on?: ExprNode
}

/** A sort key: an expression, insertion order (_rowid), or the sample(n) hash. */
export type OrderKey =
  | { readonly kind: 'expr'; readonly node: ExprNode; readonly desc: boolean }
  | { readonly kind: 'rowid'; readonly dir: 'asc' | 'desc' }
  | { readonly kind: 'sampleHash'; readonly seed: number }

/** The one SQL statement, as data. */
export interface LogicalSelect {
  readonly distinct: boolean
  /** The select list in order: outputs (_oN) and the leaves TypeScript reads (_lN). */
  readonly columns: readonly { readonly key: string; readonly node: ExprNode }[]
  readonly from: LogicalSource
  readonly joins: readonly LogicalJoin[]
  /**
   * With a right or full join, rows of the left side may be missing from the result (nulls), so no table's
   * visibility can sit in WHERE: each is read through a derived table that keeps only its visible versions.
   * Otherwise the left table's visibility is in WHERE and a joined one's in ON (so left joins keep unmatched rows).
   */
  readonly visibilityInDerivedTables: boolean
  /** SQL conjuncts of the where clause (besides visibility). */
  readonly where: readonly ExprNode[]
  readonly sampleFraction?: { readonly fraction: number; readonly seed: number }
  readonly groupBy: readonly ExprNode[]
  readonly orderBy: readonly OrderKey[]
  readonly limit?: number
  readonly offset?: number
  /** Keyset paging (QuerySpec.keyset): rows after this _rowid (absent: from the first), each with its _rowid. */
  readonly keyset?: { readonly after?: string }
}

export interface LogicalPlan {
  readonly select: LogicalSelect
  readonly outputs: readonly PlannedOutput[]
  /** SQL-computed subexpressions the TS parts read, by node identity, and their select-list keys. */
  readonly leaves: ReadonlyMap<ExprNode, string>
  readonly tsWhere: readonly ExprNode[]
  readonly tsOrder: readonly { node: ExprNode; desc: boolean }[]
  /** limit/offset that must be applied after TS filtering/sorting. */
  readonly tsLimit?: { readonly limit?: number; readonly offset?: number }
  /** Set when grouping runs in TypeScript (user aggregates, TS group keys): the group keys ([] = one group). */
  readonly tsGroupBy?: readonly ExprNode[]
  readonly scope: SourceScope
}

function conjuncts(node: ExprNode): ExprNode[] {
  return isFn(node) && node.fn === 'and' ? node.args.flatMap(conjuncts) : [node]
}

/**
 * With group_by (or aggregates), each output must be an aggregate, a group_by expression, or built from those:
 * `upper(s)` grouped by `s` is fine, a bare `id` is not. Said here, naming the output, rather than by Postgres.
 */
function checkGroupedOutputs(items: readonly { name: string; expr: ExprNode }[], groupBy: readonly ExprNode[]): void {
  const allowed = groupedExpression(groupBy)
  for (const it of items) {
    if (!allowed(it.expr)) {
      throw invalid('INVALID_EXPRESSION', `output '${it.name}' (${printExpr(it.expr)}) must be an aggregate or one of the group_by expressions${groupBy.length ? ` (${groupBy.map(printExpr).join(', ')})` : ''}`, { expression: printExpr(it.expr) })
    }
  }
}

/** A test for expressions a grouped query can compute per group: aggregates, group_by expressions, and what is built from them. */
function groupedExpression(groupBy: readonly ExprNode[]): (n: ExprNode) => boolean {
  const key = (n: ExprNode): string => JSON.stringify(n, (k, v) => (k === 'tbl' ? undefined : v))
  const keys = new Set(groupBy.map(key))
  const allowed = (n: ExprNode): boolean => keys.has(key(n)) || containsAggregate(n) || (isFn(n) ? n.args.every(allowed) : !isCol(n))
  return allowed
}

/**
 * Order keys follow the outputs' rule: in a grouped query, per-group expressions only; elsewhere, no aggregate (there
 * are no groups to aggregate over). Postgres refused both with 42803, which reached HTTP clients as a 500.
 */
function checkOrderKeys(order: readonly { expr: ExprNode }[], grouped: boolean, groupBy: readonly ExprNode[]): void {
  const allowed = grouped ? groupedExpression(groupBy) : (n: ExprNode) => !containsAggregate(n)
  for (const o of order) {
    if (allowed(o.expr)) continue
    const expression = printExpr(o.expr)
    throw invalid('INVALID_EXPRESSION', grouped
      ? `order_by ${expression} must be an aggregate or one of the group_by expressions${groupBy.length ? ` (${groupBy.map(printExpr).join(', ')})` : ''}`
      : `order_by ${expression} aggregates, but the query has no groups: add a group_by, or aggregate in select`, { expression })
  }
}

/** True when the where clause fixes every primary-key column to a literal (a point lookup: at most one row). */
function pinsPrimaryKey(spec: QuerySpec): boolean {
  const pk = spec.from.md.primaryKey
  if (pk.length === 0 || spec.joins.length > 0 || !spec.where) return false
  const pinned = new Set<string>()
  for (const c of conjuncts(spec.where)) {
    if (!isFn(c) || c.fn !== 'eq' || c.args.length !== 2) continue
    const [a, b] = c.args as [ExprNode, ExprNode]
    const col = isCol(a) && !a.prop ? a : isCol(b) && !b.prop ? b : undefined
    const lit = col === a ? b : a
    if (col && isLit(lit) && lit.lit !== null) pinned.add(col.col)
  }
  return pk.every((id) => {
    const name = spec.from.md.columns.find((c) => c.id === id)?.name
    return name !== undefined && pinned.has(name)
  })
}

/** Collects the SQL select list: outputs and the SQL-computable leaves under TypeScript expressions. */
class SelectList {
  readonly columns: { key: string; node: ExprNode }[] = []
  readonly leaves = new Map<ExprNode, string>()

  output(index: number, node: ExprNode): string {
    const key = `_o${index}`
    this.columns.push({ key, node })
    return key
  }

  /** The largest SQL-computable parts of a TypeScript expression, each fetched once. */
  leavesOf = (node: ExprNode): void => {
    if (isSqlExpr(node)) {
      if (this.leaves.has(node)) return
      const key = `_l${this.leaves.size}`
      this.leaves.set(node, key)
      this.columns.push({ key, node })
    } else if (isFn(node)) node.args.forEach(this.leavesOf)
  }

  /** Leaves of an expression over groups: below an aggregate, its arguments are what rows contribute. */
  groupedLeavesOf = (node: ExprNode): void => {
    if (!containsAggregate(node)) return this.leavesOf(node)
    if (isFn(node)) node.args.forEach(functions.get(node.fn, node).kind === 'aggregate' ? this.leavesOf : this.groupedLeavesOf)
  }
}

export function logicalPlan(original: QuerySpec): LogicalPlan {
  // The caller (stream()) checks; a keyset over another order would skip rows.
  if (original.keyset && !keysetEligible(original)) throw new Error('internal: keyset paging needs one table in insertion order')
  const spec = inlineUnstoredSpec(original)
  const sources = [{ source: spec.from, alias: 't0' }, ...spec.joins.map((j, i) => ({ source: j.source, alias: `t${i + 1}` }))]
  const scope = new SourceScope(sources)
  const list = new SelectList()

  // Select list (default: every visible column of every table, joined names prefixed on conflict).
  const items = spec.select ?? sources.flatMap(({ source }, i) =>
    source.md.columns.filter((c) => !c.hidden).map((c) => ({
      name: i === 0 || !spec.from.md.columns.some((m) => m.name === c.name) ? c.name : `${source.path.split('/').at(-1)}_${c.name}`,
      expr: inlineUnstored(colNode(c.name, spec.joins.length > 0 ? source.path : undefined), sources.map((x) => x.source)),
    })))

  const grouped = (spec.groupBy?.length ?? 0) > 0 || items.some((it) => containsAggregate(it.expr))
  // Grouping that SQL cannot do (a UDA, a UDF key) runs in TypeScript: SQL only fetches the leaves it needs.
  const tsGrouped = grouped && (items.some((it) => !isSqlExpr(it.expr)) || (spec.groupBy ?? []).some((g) => !isSqlExpr(g)))
  if (grouped) checkGroupedOutputs(items, spec.groupBy ?? [])
  const outputs: PlannedOutput[] = items.map((it, i) => {
    const type = typeOf(it.expr, scope)
    if (tsGrouped) {
      list.groupedLeavesOf(it.expr)
      return { name: it.name, type, node: it.expr }
    }
    if (isSqlExpr(it.expr)) return { name: it.name, type, sqlKey: list.output(i, it.expr), node: it.expr }
    if (grouped) {
      throw invalid('INVALID_EXPRESSION', `${printExpr(it.expr)} runs in TypeScript and cannot be grouped or aggregated; store it as a computed column first`)
    }
    list.leavesOf(it.expr)
    return { name: it.name, type, node: it.expr }
  })

  // Where: SQL-able conjuncts in SQL, the rest in TypeScript.
  const where: ExprNode[] = []
  const tsWhere: ExprNode[] = []
  if (spec.where) {
    const wt = typeOf(spec.where, scope)
    if (wt.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `where() needs a boolean expression, got ${wt.kind} from ${printExpr(spec.where)}`)
    for (const c of conjuncts(spec.where)) {
      if (containsAggregate(c)) throw invalid('INVALID_EXPRESSION', `aggregates are not allowed in where(): ${printExpr(c)}`)
      if (isSqlExpr(c)) where.push(c)
      else {
        tsWhere.push(c)
        list.leavesOf(c)
      }
    }
  }

  const joins: LogicalJoin[] = spec.joins.map((j, i) => {
    const alias = `t${i + 1}`
    const source = { tableId: j.source.tableId, alias, version: j.source.version, ...(j.source.stagedWrites ? { stagedWrites: true } : {}) }
    if (j.how === 'cross' || !j.on) {
      if (j.how !== 'cross') throw invalid('INVALID_EXPRESSION', `a ${j.how} join needs a join condition (on)`)
      return { ...source, how: 'cross' }
    }
    const ot = typeOf(j.on, scope)
    if (ot.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `join condition must be boolean: ${printExpr(j.on)}`)
    if (!isSqlExpr(j.on)) throw invalid('INVALID_EXPRESSION', `join condition must run in SQL: ${printExpr(j.on)}`)
    if (!['inner', 'left', 'right', 'full'].includes(j.how)) throw invalid('INVALID_ARGUMENT', `unknown join kind ${JSON.stringify(j.how)}`)
    return { ...source, how: j.how, on: j.on }
  })

  let groupBy: ExprNode[] = []
  if (tsGrouped) {
    for (const g of spec.groupBy ?? []) (typeOf(g, scope), list.leavesOf(g))
  } else if (spec.groupBy && spec.groupBy.length > 0) {
    groupBy = spec.groupBy.map((g) => {
      if (!isSqlExpr(g)) throw invalid('INVALID_EXPRESSION', `group_by(${printExpr(g)}) runs in TypeScript; store it as a computed column first`)
      typeOf(g, scope)
      return g
    })
  }

  // Order: SQL unless some key needs TypeScript, then everything sorts in TS.
  const order = spec.orderBy
  for (const o of order) typeOf(o.expr, scope)
  checkOrderKeys(order, grouped, spec.groupBy ?? [])
  const tsOrderNeeded = tsGrouped || order.some((o) => !isSqlExpr(o.expr))
  const tsOrder: { node: ExprNode; desc: boolean }[] = []
  const orderBy: OrderKey[] = []
  if (tsOrderNeeded) {
    if (grouped && !tsGrouped) throw invalid('INVALID_EXPRESSION', 'order_by on a TypeScript-computed expression cannot be combined with a group_by that runs in SQL')
    for (const o of order) {
      typeOf(o.expr, scope)
      if (tsGrouped) list.groupedLeavesOf(o.expr)
      else list.leavesOf(o.expr)
      tsOrder.push({ node: o.expr, desc: o.desc })
    }
  } else {
    for (const o of order) (typeOf(o.expr, scope), orderBy.push({ kind: 'expr', node: o.expr, desc: o.desc }))
    if (spec.sample?.n !== undefined) orderBy.push({ kind: 'sampleHash', seed: spec.sample.seed })
    const rowid: OrderKey = { kind: 'rowid', dir: spec.insertionOrder ?? 'asc' }
    // Without an order, rows come back in insertion order (head/tail pick the direction) — unless the where pins
    // the whole primary key: at most one row, and a sort would only cost planning time on the hottest query.
    if (order.length === 0 && spec.sample?.n === undefined && !grouped && !spec.distinct && !pinsPrimaryKey(spec)) orderBy.push(rowid)
    // A tie-break on insertion order where determinism is needed: paging (offset, head/tail, stream) and vector
    // search (HNSW answers approximately; the tie-break also makes pgvector read past exact ties). Elsewhere it
    // would slow every top-N sort by about half for nothing. Impossible under distinct/group by.
    const needsTieBreak = spec.offset !== undefined || spec.insertionOrder !== undefined || order.some((o) => isFn(o.expr) && o.expr.fn === 'vector_distance')
    if (needsTieBreak && !grouped && !spec.distinct && orderBy.length > 0 && orderBy.at(-1)!.kind !== 'rowid') orderBy.push(rowid)
  }

  const limit = spec.sample?.n !== undefined ? Math.min(spec.sample.n, spec.limit ?? Infinity) : spec.limit
  const tsPaging = tsWhere.length > 0 || tsOrderNeeded
  const select: LogicalSelect = {
    distinct: spec.distinct === true,
    columns: list.columns,
    from: {
      tableId: spec.from.tableId, alias: 't0', version: spec.from.version, ...(spec.from.stagedWrites ? { stagedWrites: true } : {}),
      ...(spec.from.md.columns.some((c) => parseType(c.type).kind === 'array') ? { arrayColumns: true } : {}),
    },
    joins,
    visibilityInDerivedTables: spec.joins.some((j) => j.how === 'right' || j.how === 'full'),
    where,
    ...(spec.sample?.fraction !== undefined ? { sampleFraction: { fraction: spec.sample.fraction, seed: spec.sample.seed } } : {}),
    groupBy,
    orderBy,
    ...(!tsPaging && limit !== undefined && Number.isFinite(limit) ? { limit } : {}),
    ...(!tsPaging && spec.offset ? { offset: spec.offset } : {}),
    ...(spec.keyset ? { keyset: spec.keyset } : {}),
  }
  const tsLimit = tsPaging ? { ...(limit !== undefined ? { limit } : {}), ...(spec.offset ? { offset: spec.offset } : {}) } : undefined
  return { select, outputs, leaves: list.leaves, tsWhere, tsOrder, ...(tsLimit ? { tsLimit } : {}), ...(tsGrouped ? { tsGroupBy: spec.groupBy ?? [] } : {}), scope }
}
