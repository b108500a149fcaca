import type { ExprNode } from './nodes/index.ts'
import { isCol, isFn } from './nodes/index.ts'

// How a query names its outputs when the caller gives no name. Pure (no planner, no store): the one query builder
// (query.ts) names outputs with it in the library and in the browser-safe HTTP client alike.

/** Default output names: a column's own name (x_errortype for x.errortype), else the function name; duplicates get _1, _2... */
export function defaultName(node: ExprNode, taken: Set<string>): string {
  const base = isCol(node) ? (node.prop ? `${node.col}_${node.prop}` : node.col) : isFn(node) ? node.fn : 'col'
  let name = base
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`
  taken.add(name)
  return name
}
