import { agg } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import type { QuerySpec } from '../../src/query/spec.ts'
import { tsOnly } from './fixture.ts'
import { col } from '../../src/index.ts'

// Representative queries for the planner's exact-SQL tests (planner.test.ts), one per planning decision.
export function plannerCases(t: Table, u: Table): Record<string, QuerySpec> {
  const s = (q: { spec: QuerySpec }) => q.spec
  return {
    'point lookup by the whole key: no sort': s(t.where(t.c.id.eq(3))),
    'select, where, order desc, limit': s(t.select({ id: t.c.id, x: t.c.f.mul(2) }).where(t.c.i.gt(0).and(t.c.s.ne(null))).orderBy(t.c.f, 'desc').limit(10)),
    'no order: insertion order': s(t.select('id')),
    'head: insertion order and limit': { ...s(t.select('id').limit(5)), insertionOrder: 'asc' },
    'tail without order: descending insertion order': { ...s(t.select('id').limit(2)), insertionOrder: 'desc' },
    'offset paging: a tie-break on insertion order': s(t.select('id').orderBy('g').offset(2).limit(2)),
    'group by with aggregates': s(t.groupBy(t.c.g).select({ g: t.c.g, n: agg.count(), m: agg.max(t.c.i) })),
    'distinct': s(t.select('g').distinct()),
    'sample fraction': s(t.select('id').sample({ fraction: 0.5, seed: 7 })),
    'sample n': s(t.select('id').sample({ n: 2, seed: 1 })),
    'a version in the past': { ...s(t.select('id')), from: { ...t.querySource(), version: 1 } },
    'inner join': s(t.join(u, { on: t.c.id.eq(u.c.k) }).select({ id: t.c.id, w: u.c.w }).where(u.c.w.gt(1))),
    'left join': s(t.join(u, { on: t.c.id.eq(u.c.k), how: 'left' }).select({ id: t.c.id, w: u.c.w })),
    'full join: visibility inside derived tables': s(t.join(u, { on: t.c.id.eq(u.c.k), how: 'full' }).select({ id: t.c.id, w: u.c.w })),
    'cross join': s(t.join(u, { how: 'cross' }).select({ id: t.c.id, k: u.c.k }).limit(3)),
    'a TypeScript filter: SQL fetches leaves, paging moves to TypeScript': s(t.select({ id: t.c.id }).where(tsOnly(col('i')).gt(0).and(t.c.f.ge(0))).limit(2)),
  }
}
