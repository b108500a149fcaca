import { invalid } from '../errors.ts'
import type { ExprNode } from './nodes/index.ts'
import { Query } from './query.ts'
import type { QuerySource } from './spec.ts'

// createView(path, t.where(...)): a query as a view's base. A view follows every change of its base row by row, so
// only a filter carries over; whatever else a query says is refused by name rather than dropped.

export interface ViewBase {
  readonly source: QuerySource
  readonly where?: ExprNode
}

const REFUSED: readonly [keyof Query['spec'], string][] = [
  ['select', 'select() (a view carries every base column; add computed columns to the view instead)'],
  ['sample', 'sample() (a sample would change with every base change; filter with where(), or snapshot a sampled copy)'],
  ['groupBy', 'groupBy()'],
  ['orderBy', 'orderBy()'],
  ['limit', 'limit()'],
  ['offset', 'offset()'],
  ['distinct', 'distinct()'],
  ['joins', 'join()'],
]

/** The base and filter of a view made from a query; throws naming the first part a view cannot follow. */
export function viewBaseOf(query: Query): ViewBase {
  const spec = query.spec
  for (const [key, what] of REFUSED) {
    const v = spec[key]
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue
    throw invalid('INVALID_ARGUMENT', `a view over a query can only filter it with where(); this query also has ${what}`, { option: key })
  }
  return { source: spec.from, ...(spec.where ? { where: spec.where } : {}) }
}

export const isQuery = (x: unknown): x is Query => x instanceof Query
