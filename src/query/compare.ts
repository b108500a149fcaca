// TypeScript-side ordering and equality that agree with Postgres for the types Tessera stores.

export function compareValues(a: unknown, b: unknown): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime()
  if (a instanceof Date) return a.getTime() - new Date(b as string).getTime()
  if (b instanceof Date) return new Date(a as string).getTime() - b.getTime()
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  const sa = JSON.stringify(a)
  const sb = JSON.stringify(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

export const valuesEqual = (a: unknown, b: unknown): boolean => compareValues(a, b) === 0

/** Sort comparator with SQL's default placement of nulls (last ascending, first descending). */
export function sortCompare(a: unknown, b: unknown, desc: boolean): number {
  const an = a === null || a === undefined
  const bn = b === null || b === undefined
  if (an || bn) return an && bn ? 0 : (an ? 1 : -1) * (desc ? -1 : 1)
  const c = compareValues(a, b)
  return desc ? -c : c
}
