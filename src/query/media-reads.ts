import { checkLiteralRefs, clearStoreRefs, currentMediaAccess } from '../media/index.ts'
import { isMedia } from '../types/index.ts'
import type { Row } from './evaluator.ts'
import type { ExprNode } from './nodes/index.ts'
import { isCol, isLit, printExpr, someNode } from './nodes/index.ts'
import type { Plan } from './planner.ts'

// A query's part in the read-side tenant boundary for media store refs (src/media/read-gate.ts): under a scoped
// token, the media refs a TypeScript expression resolves to bytes must come from a table the caller may read. Refs
// a literal names are looked up once per query, before the statement runs (one batched lookup, the refusal naming
// the expression); refs read from a media column of a table the query reads are cleared without any lookup (the
// compiler checked the caller may read that table: a lookup per row would scan every media column it may read).

/** The TypeScript-evaluated expressions of a plan: where a media function resolves a value to bytes. */
function tsExpressions(plan: Plan): ExprNode[] {
  return [...plan.tsWhere, ...plan.tsOrder.map((o) => o.node), ...plan.outputs.filter((o) => o.sqlKey === undefined).map((o) => o.node)]
}

/** Refuses (FORBIDDEN, naming the expression) a store ref named by a literal the caller may not read. */
export async function checkPlanLiterals(plan: Plan): Promise<void> {
  if (!currentMediaAccess()?.storeRefs) return
  const literals: [unknown, string][] = []
  for (const top of tsExpressions(plan)) {
    someNode(top, (n) => (isLit(n) && typeof n.lit === 'string' && literals.push([n.lit, printExpr(top)]), false))
  }
  await checkLiteralRefs(literals)
}

/** Clears the values of the media columns the plan's TypeScript reads (its leaves) for this request. */
export function clearMediaLeaves(plan: Plan, rows: readonly Row[]): void {
  if (!currentMediaAccess()?.storeRefs || rows.length === 0) return
  for (const [node, key] of plan.leaves) {
    if (!isCol(node) || node.prop || !isMedia(plan.scope.resolve(node).type)) continue
    clearStoreRefs(rows.map((r) => r[key]))
  }
}
