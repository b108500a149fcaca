import { sortCompare } from './compare.ts'
import type { Plan } from './planner.ts'

// Ordering and paging done in TypeScript (after a TS filter, or over groups formed in TS), shared by the row and
// group paths of the executor.

/** Stable sort of items by per-item key columns, in the plan's TypeScript order (SQL's null placement). */
export function sortByKeys<T>(items: readonly T[], keys: readonly (readonly unknown[])[], plan: Pick<Plan, 'tsOrder'>): T[] {
  const idx = items.map((_, i) => i)
  idx.sort((a, b) => {
    for (let k = 0; k < keys.length; k++) {
      const c = sortCompare(keys[k]![a], keys[k]![b], plan.tsOrder[k]!.desc)
      if (c !== 0) return c
    }
    return a - b
  })
  return idx.map((i) => items[i]!)
}

/** limit/offset applied after TypeScript filtering, grouping or sorting. */
export function tsPage<T>(items: T[], plan: Pick<Plan, 'tsLimit'>): T[] {
  if (!plan.tsLimit) return items
  const start = plan.tsLimit.offset ?? 0
  return items.slice(start, plan.tsLimit.limit === undefined ? undefined : start + plan.tsLimit.limit)
}
