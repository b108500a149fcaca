import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { compileExpr, isSqlExpr } from './compiler.ts'
import type { ExprNode } from './nodes/index.ts'
import { isCol, isFn, printExpr } from './nodes/index.ts'
import { SourceScope } from './scope.ts'
import type { QuerySpec } from './spec.ts'
import { dataTable, ParamList, visibleAt } from './sql.ts'
import { containsAggregate, typeOf } from './typecheck.ts'
import { functions } from './registry.ts'
import { inlineUnstored, inlineUnstoredSpec } from './unstored.ts'

// Turns a QuerySpec into one SQL statement plus the TypeScript work that SQL cannot do (UDFs, model calls).
// Everything SQL can express runs in Postgres; TS parts see only the SQL-computed leaves they need.

export interface PlannedOutput {
  readonly name: string
  readonly type: ColumnType
  /** Column key of the SQL result holding the value, or undefined when the value is computed in TypeScript. */
  readonly sqlKey?: string
  readonly node: ExprNode
}

export interface Plan {
  readonly sql: string
  readonly params: unknown[]
  readonly outputs: readonly PlannedOutput[]
  /** SQL-computed subexpressions the TS parts read, by node identity. */
  readonly leaves: ReadonlyMap<ExprNode, string>
  readonly tsWhere: readonly ExprNode[]
  readonly tsOrder: readonly { node: ExprNode; desc: boolean }[]
  /** limit/offset that must be applied after TS filtering/sorting. */
  readonly tsLimit?: { readonly limit?: number; readonly offset?: number }
  /** Set when grouping runs in TypeScript (user aggregates, TS group keys): the group keys ([] = one group). */
  readonly tsGroupBy?: readonly ExprNode[]
  readonly scope: SourceScope
  /** SET LOCAL before the statement (QuerySpec.storeSettings). */
  readonly storeSettings?: Readonly<Record<string, string | number>>
}

function conjuncts(node: ExprNode): ExprNode[] {
  return isFn(node) && node.fn === 'and' ? node.args.flatMap(conjuncts) : [node]
}

/** Default output names: a column's own name, else the function name; duplicates get _1, _2... */
export function defaultName(node: ExprNode, taken: Set<string>): string {
  const base = isCol(node) ? (node.prop ? `${node.col}_${node.prop}` : node.col) : isFn(node) ? node.fn : 'col'
  let name = base
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`
  taken.add(name)
  return name
}

/**
 * With group_by (or aggregates), each output must be an aggregate, a group_by expression, or built from those:
 * `upper(s)` grouped by `s` is fine, a bare `id` is not. Said here, naming the output, rather than by Postgres.
 */
function checkGroupedOutputs(items: readonly { name: string; expr: ExprNode }[], groupBy: readonly ExprNode[]): void {
  const key = (n: ExprNode): string => JSON.stringify(n, (k, v) => (k === 'tbl' ? undefined : v))
  const keys = new Set(groupBy.map(key))
  const allowed = (n: ExprNode): boolean => keys.has(key(n)) || containsAggregate(n) || (isFn(n) ? n.args.every(allowed) : !isCol(n))
  for (const it of items) {
    if (!allowed(it.expr)) {
      throw invalid('INVALID_EXPRESSION', `output '${it.name}' (${printExpr(it.expr)}) must be an aggregate or one of the group_by expressions${groupBy.length ? ` (${groupBy.map(printExpr).join(', ')})` : ''}`, { expression: printExpr(it.expr) })
    }
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
    if (col && 'lit' in lit && lit.lit !== null) pinned.add(col.col)
  }
  return pk.every((id) => {
    const name = spec.from.md.columns.find((c) => c.id === id)?.name
    return name !== undefined && pinned.has(name)
  })
}

export function planQuery(original: QuerySpec): Plan {
  const spec = inlineUnstoredSpec(original)
  const sources = [{ source: spec.from, alias: 't0' }, ...spec.joins.map((j, i) => ({ source: j.source, alias: `t${i + 1}` }))]
  const scope = new SourceScope(sources)
  const params = new ParamList()
  const selectList: string[] = []
  const leaves = new Map<ExprNode, string>()

  const addLeaf = (node: ExprNode): void => {
    if (leaves.has(node)) return
    const key = `_l${leaves.size}`
    leaves.set(node, key)
    selectList.push(`${compileExpr(node, scope, params)} as "${key}"`)
  }
  const collectLeaves = (node: ExprNode): void => {
    if (isSqlExpr(node)) return addLeaf(node)
    if (isFn(node)) node.args.forEach(collectLeaves)
  }

  // Select list (default: every visible column of every table, joined names prefixed on conflict).
  const items = spec.select ?? sources.flatMap(({ source }, i) =>
    source.md.columns.filter((c) => !c.hidden).map((c) => ({
      name: i === 0 || !spec.from.md.columns.some((m) => m.name === c.name) ? c.name : `${source.path.split('/').at(-1)}_${c.name}`,
      expr: inlineUnstored({ col: c.name, ...(spec.joins.length > 0 ? { tbl: source.path } : {}) } as ExprNode, sources.map((x) => x.source)),
    })))

  const grouped = (spec.groupBy?.length ?? 0) > 0 || items.some((it) => containsAggregate(it.expr))
  // Grouping that SQL cannot do (a UDA, a UDF key) runs in TypeScript: SQL only fetches the leaves it needs.
  const tsGrouped = grouped && (items.some((it) => !isSqlExpr(it.expr)) || (spec.groupBy ?? []).some((g) => !isSqlExpr(g)))
  if (grouped) checkGroupedOutputs(items, spec.groupBy ?? [])
  const collectGroupedLeaves = (node: ExprNode): void => {
    if (!containsAggregate(node)) return collectLeaves(node)
    if (isFn(node)) node.args.forEach(functions.get(node.fn, node).kind === 'aggregate' ? collectLeaves : collectGroupedLeaves)
  }
  const outputs: PlannedOutput[] = items.map((it, i) => {
    const type = typeOf(it.expr, scope)
    if (tsGrouped) {
      collectGroupedLeaves(it.expr)
      return { name: it.name, type, node: it.expr }
    }
    if (isSqlExpr(it.expr)) {
      const key = `_o${i}`
      selectList.push(`${compileExpr(it.expr, scope, params)} as "${key}"`)
      return { name: it.name, type, sqlKey: key, node: it.expr }
    }
    if (grouped) {
      throw invalid('INVALID_EXPRESSION', `${printExpr(it.expr)} runs in TypeScript and cannot be grouped or aggregated; store it as a computed column first`)
    }
    collectLeaves(it.expr)
    return { name: it.name, type, node: it.expr }
  })

  // Which row versions each table contributes. With a right or full join, rows of the left side may be missing
  // from the result (nulls), so no table's visibility can sit in WHERE: each is read through a derived table that
  // keeps only its visible versions. Otherwise the left table's visibility is in WHERE and a joined one's in ON
  // (so left joins keep unmatched rows), which Postgres plans best.
  const outer = spec.joins.some((j) => j.how === 'right' || j.how === 'full')
  const tableSql = (tableId: number, alias: string, version: number | undefined): string =>
    outer ? `(select * from ${dataTable(tableId)} as ${alias} where ${visibleAt(alias, version, tableId)}) as ${alias}` : `${dataTable(tableId)} as ${alias}`

  // Where: SQL-able conjuncts in SQL, the rest in TypeScript.
  const whereSql: string[] = outer ? ['true'] : [visibleAt('t0', spec.from.version, spec.from.tableId)]
  const tsWhere: ExprNode[] = []
  if (spec.where) {
    const wt = typeOf(spec.where, scope)
    if (wt.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `where() needs a boolean expression, got ${wt.kind} from ${printExpr(spec.where)}`)
    for (const c of conjuncts(spec.where)) {
      if (containsAggregate(c)) throw invalid('INVALID_EXPRESSION', `aggregates are not allowed in where(): ${printExpr(c)}`)
      if (isSqlExpr(c)) whereSql.push(compileExpr(c, scope, params))
      else {
        tsWhere.push(c)
        collectLeaves(c)
      }
    }
  }
  if (spec.sample?.fraction !== undefined) {
    whereSql.push(`(abs(hashtextextended(t0._rowid::text, ${params.param(spec.sample.seed, { kind: 'int', nullable: false })})) / 9223372036854775807.0) < ${params.param(spec.sample.fraction, { kind: 'float', nullable: false })}`)
  }

  const fromSql = [tableSql(spec.from.tableId, 't0', spec.from.version)]
  spec.joins.forEach((j, i) => {
    const alias = `t${i + 1}`
    const table = tableSql(j.source.tableId, alias, j.source.version)
    if (j.how === 'cross' || !j.on) {
      if (j.how !== 'cross') throw invalid('INVALID_EXPRESSION', `a ${j.how} join needs a join condition (on)`)
      fromSql.push(`cross join ${table}`)
      if (!outer) whereSql.push(visibleAt(alias, j.source.version, j.source.tableId))
      return
    }
    const ot = typeOf(j.on, scope)
    if (ot.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `join condition must be boolean: ${printExpr(j.on)}`)
    if (!isSqlExpr(j.on)) throw invalid('INVALID_EXPRESSION', `join condition must run in SQL: ${printExpr(j.on)}`)
    const kind = { inner: 'join', left: 'left join', right: 'right join', full: 'full join' }[j.how]
    if (!kind) throw invalid('INVALID_ARGUMENT', `unknown join kind ${JSON.stringify(j.how)}`)
    fromSql.push(`${kind} ${table} on ${outer ? '' : `${visibleAt(alias, j.source.version, j.source.tableId)} and `}${compileExpr(j.on, scope, params)}`)
  })

  let groupSql = ''
  if (tsGrouped) {
    for (const g of spec.groupBy ?? []) (typeOf(g, scope), collectLeaves(g))
  } else if (spec.groupBy && spec.groupBy.length > 0) {
    groupSql = ` group by ${spec.groupBy.map((g) => {
      if (!isSqlExpr(g)) throw invalid('INVALID_EXPRESSION', `group_by(${printExpr(g)}) runs in TypeScript; store it as a computed column first`)
      typeOf(g, scope)
      return compileExpr(g, scope, params)
    }).join(', ')}`
  }

  // Order: SQL unless some key needs TypeScript, then everything sorts in TS.
  const order = spec.orderBy
  const tsOrderNeeded = tsGrouped || order.some((o) => !isSqlExpr(o.expr))
  const tsOrder: { node: ExprNode; desc: boolean }[] = []
  let orderSql = ''
  if (tsOrderNeeded) {
    if (grouped && !tsGrouped) throw invalid('INVALID_EXPRESSION', 'order_by on a TypeScript-computed expression cannot be combined with a group_by that runs in SQL')
    for (const o of order) {
      typeOf(o.expr, scope)
      if (tsGrouped) collectGroupedLeaves(o.expr)
      else collectLeaves(o.expr)
      tsOrder.push({ node: o.expr, desc: o.desc })
    }
  } else {
    const keys = order.map((o) => (typeOf(o.expr, scope), `${compileExpr(o.expr, scope, params)} ${o.desc ? 'desc' : 'asc'}`))
    if (spec.sample?.n !== undefined) keys.push(`hashtextextended(t0._rowid::text, ${params.param(spec.sample.seed, { kind: 'int', nullable: false })})`)
    // Without an order, rows come back in insertion order (head/tail pick the direction) — unless the where pins
    // the whole primary key: at most one row, and a sort would only cost planning time on the hottest query.
    if (order.length === 0 && spec.sample?.n === undefined && !grouped && !spec.distinct && !pinsPrimaryKey(spec)) keys.push(`t0._rowid ${spec.insertionOrder ?? 'asc'}`)
    // A tie-break on insertion order where determinism is needed: paging (offset, head/tail, stream) and vector
    // search (HNSW answers approximately; the tie-break also makes pgvector read past exact ties). Elsewhere it
    // would slow every top-N sort by about half for nothing. Impossible under distinct/group by.
    const needsTieBreak = spec.offset !== undefined || spec.insertionOrder !== undefined || order.some((o) => isFn(o.expr) && o.expr.fn === 'vector_distance')
    if (needsTieBreak && !grouped && !spec.distinct && keys.length > 0 && !keys.at(-1)!.startsWith('t0._rowid')) keys.push(`t0._rowid ${spec.insertionOrder ?? 'asc'}`)
    if (keys.length > 0) orderSql = ` order by ${keys.join(', ')}`
  }

  const limit = spec.sample?.n !== undefined ? Math.min(spec.sample.n, spec.limit ?? Infinity) : spec.limit
  const tsPaging = tsWhere.length > 0 || tsOrderNeeded
  let limitSql = ''
  if (!tsPaging) {
    if (limit !== undefined && Number.isFinite(limit)) limitSql += ` limit ${Math.max(0, Math.trunc(limit))}`
    if (spec.offset) limitSql += ` offset ${Math.max(0, Math.trunc(spec.offset))}`
  }
  if (selectList.length === 0) selectList.push('1 as "_none"')

  const sql = `select${spec.distinct ? ' distinct' : ''} ${selectList.join(', ')} from ${fromSql.join(' ')} where ${whereSql.join(' and ')}${groupSql}${orderSql}${limitSql}`
  const tsLimit = tsPaging ? { ...(limit !== undefined ? { limit } : {}), ...(spec.offset ? { offset: spec.offset } : {}) } : undefined
  return { sql, params: params.values, outputs, leaves, tsWhere, tsOrder, ...(tsLimit ? { tsLimit } : {}), ...(tsGrouped ? { tsGroupBy: spec.groupBy ?? [] } : {}), scope, ...(spec.storeSettings ? { storeSettings: spec.storeSettings } : {}) }
}
