import type { PGlite } from '@electric-sql/pglite'
import { agg } from '../../src/index.ts'
import type { Query, Table } from '../../src/index.ts'
import type { BenchCase, BenchContext, Measurement } from '../lib/harness.ts'
import { latency } from '../lib/harness.ts'
import { keys, loadBoth } from '../lib/setup.ts'

// Reads through the library against the same SQL a user would hand-write on raw PGlite, on the same rows.

export interface ReadOp {
  readonly metric: string
  /** Operations per timed round (small for full scans, many for point lookups). */
  readonly ops: (n: number) => number
  readonly target?: { atMost: number }
  /** The library query (HTTP sends its toJSON() form). */
  query(t: Table, i: number): Query
  raw(pg: PGlite, i: number): Promise<unknown>
}

/** The read operations shared by the library, HTTP and time-travel cases. */
export function readOps(n: number): ReadOp[] {
  const ks = keys(n, 10_000)
  const lo = (i: number) => (ks[i % ks.length]! % 990)
  return [
    {
      metric: 'point query by primary key', ops: () => 500, target: { atMost: 1.5 },
      query: (t, i) => t.where(t.c.id.eq(ks[i % ks.length]!)),
      raw: (pg, i) => pg.query('select id, name, cat, score, meta from data where id = $1', [ks[i % ks.length]!]),
    },
    {
      // ~1% of rows, on an unindexed column: a scan plus a filter on both sides.
      metric: 'range filter (1% of rows, unindexed)', ops: (m) => Math.min(50, Math.max(3, Math.round(2e6 / m / 20))),
      query: (t, i) => t.where(t.c.score.ge(lo(i)).and(t.c.score.lt(lo(i) + 10))),
      raw: (pg, i) => pg.query('select id, name, cat, score, meta from data where score >= $1 and score < $2', [lo(i), lo(i) + 10]),
    },
    {
      metric: 'order_by(score desc) + limit(10)', ops: (m) => Math.min(50, Math.max(3, Math.round(2e6 / m / 10))),
      query: (t) => t.orderBy(t.c.score, 'desc').limit(10),
      raw: (pg) => pg.query('select id, name, cat, score, meta from data order by score desc limit 10'),
    },
    {
      metric: 'group_by(cat) count', ops: (m) => Math.min(50, Math.max(3, Math.round(2e6 / m / 10))),
      query: (t) => t.groupBy(t.c.cat).select({ cat: t.c.cat, n: agg.count() }),
      raw: (pg) => pg.query('select cat, count(*) as n from data group by cat'),
    },
  ]
}

export async function measureReads(ctx: BenchContext, caseName: string, table: Table, pg: PGlite, against: string): Promise<Measurement[]> {
  const out: Measurement[] = []
  for (const op of readOps(ctx.size)) {
    const { a, b } = await latency(ctx.reps, op.ops(ctx.size), (i) => op.query(table, i).collect(), (i) => op.raw(pg, i))
    out.push({ case: caseName, size: ctx.size, metric: op.metric, tessera: a, baseline: b, unit: 'us/op', against, ...(op.target ? { target: op.target } : {}) })
  }
  return out
}

export const queryCase: BenchCase = {
  name: 'query',
  description: 'point, range, order_by+limit and group_by queries: library vs the same SQL on raw PGlite',
  async run(ctx) {
    const { db } = await ctx.env.tessera()
    const { pg } = await ctx.env.raw()
    const { table } = await loadBoth(db, pg, ctx.size)
    return measureReads(ctx, 'query', table, pg, 'raw PGlite SQL')
  },
}
