import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { agg } from '../../src/index.ts'
import type { Query, Table } from '../../src/index.ts'
import { PGliteDriver } from '../../src/store/index.ts'
import { PlanCache } from '../../src/query/plan-cache.ts'
import { planQuery } from '../../src/query/planner.ts'
import type { BenchEnv } from '../lib/env.ts'
import type { BenchCase, BenchContext, Measurement } from '../lib/harness.ts'
import { latencies, median, timeIt } from '../lib/harness.ts'
import { keys, loadBoth } from '../lib/setup.ts'

// Reads through the library against the same SQL a user would hand-write on raw PGlite, on the same rows.

export interface ReadOp {
  readonly metric: string
  /** Operations per timed round (small for full scans, many for point lookups). */
  readonly ops: (n: number) => number
  readonly target?: { atMost: number }
  /** The library query (HTTP sends its toJSON() form). */
  query(t: Table, i: number): Query
  raw(pg: RawSql, i: number): Promise<unknown>
}

/** Raw SQL on PGlite: in this thread (PGlite itself) or behind the store worker (a PGliteDriver). */
export interface RawSql {
  query(sql: string, params?: unknown[]): Promise<unknown>
}

/** The read operations shared by the library, HTTP and time-travel cases. */
export function readOps(n: number): ReadOp[] {
  const ks = keys(n, 10_000)
  const lo = (i: number) => (ks[i % ks.length]! % 990)
  return [
    {
      metric: 'point query by primary key', ops: () => 500, target: { atMost: 1.2 },
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
      metric: 'order_by(score desc) + limit(10)', ops: (m) => Math.min(50, Math.max(3, Math.round(2e6 / m / 10))), target: { atMost: 1.3 },
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

/**
 * The library against raw SQL on the same rows, in the same run, op by op. With `hop` (the raw data dir behind its
 * own store worker, as Tessera's store runs) a second line compares against raw SQL that pays the same thread hop,
 * so what the hop costs and what the library costs are stated apart.
 */
export async function measureReads(ctx: BenchContext, caseName: string, table: Table, pg: PGlite, against: string, hop?: RawSql): Promise<Measurement[]> {
  const out: Measurement[] = []
  // BENCH_READS=point,order_by picks read operations by a word of their metric (a short run at 1M rows).
  const only = process.env.BENCH_READS?.split(',').filter(Boolean)
  for (const op of readOps(ctx.size).filter((o) => !only || only.some((w) => o.metric.includes(w)))) {
    const sides = [(i: number) => op.query(table, i).collect(), (i: number) => op.raw(pg, i), ...(hop ? [(i: number) => op.raw(hop, i)] : [])]
    const [lib, raw, rawHop] = await latencies(ctx.reps, op.ops(ctx.size), sides)
    out.push({ case: caseName, size: ctx.size, metric: op.metric, tessera: lib!, baseline: raw!, unit: 'us/op', against, ...(op.target ? { target: op.target } : {}) })
    if (rawHop !== undefined) {
      out.push({ case: caseName, size: ctx.size, metric: op.metric, tessera: lib!, baseline: rawHop, unit: 'us/op', against: `${against} behind a store worker`, note: `the worker hop alone: ${(rawHop - raw!).toFixed(0)} us/op` })
    }
  }
  return out
}

/**
 * JS planning alone, per query: a cached shape (PlanCache.plan: shape key, lookup, parameters refilled) against
 * planning it afresh (planQuery), for the point lookup and the top-10 query. Medians of 3 rounds of 20k plans.
 */
async function measurePlanning(ctx: BenchContext, table: Table): Promise<Measurement[]> {
  const ks = keys(ctx.size, 1000)
  const shapes: [string, (i: number) => Query][] = [
    ['JS planning: point query, cached shape', (i) => table.where(table.c.id.eq(ks[i % ks.length]!))],
    ['JS planning: order_by + limit(10), cached shape', () => table.orderBy(table.c.score, 'desc').limit(10)],
  ]
  const out: Measurement[] = []
  for (const [metric, make] of shapes) {
    const specs = ks.map((_, i) => make(i).spec)
    const cache = new PlanCache()
    cache.plan(specs[0]!)
    const n = 20_000
    const perPlan = async (fn: (i: number) => unknown) => (await timeIt(async () => { for (let i = 0; i < n; i++) fn(i) })) / n * 1000
    const cached: number[] = []
    const fresh: number[] = []
    for (let r = 0; r < 3; r++) {
      cached.push(await perPlan((i) => cache.plan(specs[i % specs.length]!)))
      fresh.push(await perPlan((i) => planQuery(specs[i % specs.length]!)))
    }
    out.push({ case: 'query', size: ctx.size, metric, tessera: median(cached), baseline: median(fresh), unit: 'us/op', against: 'planning afresh (planQuery)', note: 'target: cached <= 5 us' })
  }
  return out
}

/** The raw data dir, copied (as a dump) into a fresh dir opened behind its own store worker. */
async function rawBehindWorker(env: BenchEnv, pg: PGlite): Promise<PGliteDriver> {
  const blob = await pg.dumpDataDir('none')
  return PGliteDriver.open({ dataDir: mkdtempSync(join(env.root, 'raw-hop-')), loadDataDir: blob })
}

export const queryCase: BenchCase = {
  name: 'query',
  description: 'point, range, order_by+limit and group_by queries: library vs the same SQL on raw PGlite',
  async run(ctx) {
    const { db } = await ctx.env.tessera()
    const { pg } = await ctx.env.raw()
    const { table } = await loadBoth(db, pg, ctx.size)
    const hop = await rawBehindWorker(ctx.env, pg)
    try {
      return [...(await measurePlanning(ctx, table)), ...(await measureReads(ctx, 'query', table, pg, 'raw PGlite SQL', hop))]
    } finally {
      await hop.close()
    }
  },
}
