import { invalid } from '../errors.ts'
import { formatType, fromStore } from '../types/index.ts'
import { evalBatch } from './evaluator.ts'
import type { Row } from './evaluator.ts'
import type { ExecutedRows } from './executor.ts'
import type { ExprNode } from './nodes/index.ts'
import { colNode, isCol, isFn, printExpr, withArgs } from './nodes/index.ts'
import type { Plan } from './planner.ts'
import { functions } from './registry.ts'
import { sortByKeys, tsPage } from './ts-order.ts'
import { containsAggregate } from './typecheck.ts'

// group_by in TypeScript, for what SQL cannot aggregate (user aggregates, UDF group keys). Rows arrive ungrouped; each
// aggregate's arguments are evaluated once over all rows, then folded per group; the rest of an output expression is
// evaluated once per group on the group's first row (group keys are constant within a group).

const keyOf = (values: readonly unknown[]): string =>
  JSON.stringify(values, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Date ? `D${v.toISOString()}` : v))

async function evalGrouped(node: ExprNode, rows: readonly Row[], groups: readonly number[][], leaves: Plan['leaves']): Promise<unknown[]> {
  if (!containsAggregate(node)) return evalBatch(node, groups.map((g) => (g.length > 0 ? rows[g[0]!]! : {})), leaves)
  if (!isFn(node)) throw new Error(`internal: ${printExpr(node)} is not a function`)
  const def = functions.get(node.fn, node)
  if (def.kind === 'aggregate') {
    const impl = def.aggregate
    if (!impl) throw invalid('INVALID_EXPRESSION', `${node.fn}() can only aggregate inside the database, not over values computed in TypeScript (${printExpr(node)})`)
    const args = await Promise.all(node.args.map((a) => evalBatch(a, rows, leaves)))
    return groups.map((g) => {
      let state = impl.init()
      for (const i of g) state = impl.step(state, args.map((c) => c[i] ?? null))
      return impl.final(state) ?? null
    })
  }
  // A scalar over aggregates (sum(x) / count()): its arguments per group become the rows it is evaluated on.
  const argValues = await Promise.all(node.args.map((a) => evalGrouped(a, rows, groups, leaves)))
  const perGroup: Row[] = groups.map((_, gi) => Object.fromEntries(argValues.map((v, k) => [`a${k}`, v[gi]])))
  const shell = withArgs(node, node.args.map((_, k) => colNode(`a${k}`)))
  return evalBatch(shell, perGroup, (n) => (isCol(n) ? n.col : undefined))
}

export async function groupInTs(plan: Plan, rows: readonly Row[]): Promise<ExecutedRows> {
  const keys = plan.tsGroupBy ?? []
  const keyColumns = await Promise.all(keys.map((g) => evalBatch(g, rows, plan.leaves)))
  const byKey = new Map<string, number[]>()
  for (let i = 0; i < rows.length; i++) {
    const k = keyOf(keyColumns.map((c) => c[i] ?? null))
    const g = byKey.get(k)
    if (g) g.push(i)
    else byKey.set(k, [i])
  }
  // Without group keys, aggregates over no rows still give one row (count() = 0), as in SQL.
  let groups = [...byKey.values()]
  if (keys.length === 0 && groups.length === 0) groups = [[]]

  if (plan.tsOrder.length > 0) groups = sortByKeys(groups, await Promise.all(plan.tsOrder.map((o) => evalGrouped(o.node, rows, groups, plan.leaves))), plan)
  groups = tsPage(groups, plan)
  const values = await Promise.all(plan.outputs.map((o) => evalGrouped(o.node, rows, groups, plan.leaves)))
  const out = groups.map((_, gi) => Object.fromEntries(plan.outputs.map((o, k) => [o.name, fromStore(o.type, values[k]![gi] ?? null)])))
  return { columns: plan.outputs.map((p) => ({ name: p.name, type: formatType(p.type) })), rows: out }
}
