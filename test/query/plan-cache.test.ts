import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import '../../src/functions/index.ts'
import { agg, col, lit } from '../../src/index.ts'
import type { Query, Table, Tessera } from '../../src/index.ts'
import { PlanCache, planCacheFor } from '../../src/query/plan-cache.ts'
import { executePlan } from '../../src/query/executor.ts'
import { planQuery } from '../../src/query/planner.ts'
import { queryShape } from '../../src/query/shape.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'
import { fixture, tsOnly } from './fixture.ts'

// The plan cache must give, for a query of a shape it has seen, exactly the statement and parameters that planning
// that query afresh gives; keep only what runs wholly in SQL; and stay inside its database and schema.

let db: Tessera
let t: Table
beforeAll(async () => ({ db, t } = await fixture()))
afterAll(() => db.close())

/** Queries taking a value: each is planned with two values through one cache and compared with fresh planning. */
const SHAPES: Record<string, [(t: Table, v: any) => Query, unknown, unknown]> = {
  'point lookup': [(t, v) => t.where(t.c.id.eq(v)), 1, 4],
  'range and order': [(t, v) => t.where(t.c.i.ge(v).and(t.c.f.lt(v + 10))).orderBy(t.c.f, 'desc').limit(3), -7, 0],
  'string literal against a timestamp': [(t, v) => t.where(t.c.ts.gt(v)).select('id'), '2024-01-01T00:00:00Z', '2020-05-05T00:00:00Z'],
  'int literal against a float': [(t, v) => t.where(t.c.f.le(v)).select({ id: t.c.id, x: t.c.f.mul(v) }), 0, 2],
  'literal outputs and json': [(t, v) => t.select({ a: lit(v), b: t.c.j.path('a[0]'), c: t.c.s.contains(String(v)) }).where(t.c.id.ne(v)), 2, 3],
  'group by with aggregates': [(t, v) => t.where(t.c.i.ne(v)).groupBy(t.c.g).select({ g: t.c.g, n: agg.count(), m: agg.max(t.c.i.add(v)) }).orderBy(t.c.g), 0, 3],
  'paging by limit': [(t, v) => t.where(t.c.b.eq(v)).orderBy('id').limit(2), true, false],
  'distinct': [(t, v) => t.select({ g: t.c.g }).where(t.c.s.ne(v)).distinct(), 'bye', 'HELLO'],
}

describe('plan cache: same statement and parameters as fresh planning', () => {
  for (const [name, [make, v1, v2]] of Object.entries(SHAPES)) {
    test(name, async () => {
      const cache = new PlanCache()
      const first = cache.plan(make(t, v1).spec)
      const second = cache.plan(make(t, v2).spec)
      expect(cache.stats).toEqual({ size: 1, hits: 1, misses: 1 })
      expect(first.prepare).toBe(true)
      expect(second.prepare).toBe(true)
      const fresh = planQuery(make(t, v2).spec)
      expect({ sql: second.sql, params: second.params }).toEqual({ sql: fresh.sql, params: fresh.params })
      // And the answers agree: the cached plan through the store's prepared path, the fresh one through query().
      const rows = (await make(t, v2).collect()).rows
      expect(rows).toEqual((await executePlan(db.driver, fresh)).rows)
      expect(rows.length).toBeGreaterThan(0)
    })
  }

  test('null is a different shape (IS NULL), as are other literal kinds', () => {
    const k = (v: unknown) => queryShape(t.where(t.c.i.eq(v as number)).spec).key
    expect(k(null)).not.toBe(k(1))
    expect(k(1.5)).not.toBe(k(1))
    expect(k('1')).not.toBe(k(1))
    expect(k(2)).toBe(k(1))
  })

  test('limits, names, directions and tables are part of the shape', () => {
    const k = (q: Query) => queryShape(q.spec).key
    expect(k(t.orderBy('id').limit(2))).not.toBe(k(t.orderBy('id').limit(3)))
    expect(k(t.orderBy('id', 'desc'))).not.toBe(k(t.orderBy('id')))
    expect(k(t.select({ a: t.c.id }))).not.toBe(k(t.select({ b: t.c.id })))
    // A name cannot run into the next part of the key.
    expect(k(t.select({ a: t.c.id, b: t.c.i }))).not.toBe(k(t.select({ 'a1:cb': t.c.id })))
  })
})

describe('plan cache: what is kept', () => {
  test('plans with TypeScript work are planned every time and not kept', () => {
    const cache = new PlanCache()
    for (const v of [1, 2]) cache.plan(t.where(tsOnly(col('i')).gt(v)).spec)
    expect(cache.stats).toEqual({ size: 0, hits: 0, misses: 2 })
  })

  test('one literal node used twice is not cached (its two parameters could not be told apart)', async () => {
    const cache = new PlanCache()
    const two = lit(2)
    const q = t.where(t.c.i.gt(two).or(t.c.f.gt(two)))
    cache.plan(q.spec)
    expect(cache.stats.size).toBe(0)
  })

  test('pages (an offset) are planned per call, so a long stream does not push hot shapes out', () => {
    const cache = new PlanCache()
    for (const o of [1, 2, 3]) expect(cache.plan(t.orderBy('id').offset(o).limit(1).spec).prepare).toBeUndefined()
    expect(cache.stats).toEqual({ size: 0, hits: 0, misses: 0 })
  })

  test('a shape carrying data (a long isin list in its options) is planned per call, not kept', () => {
    const cache = new PlanCache()
    const long = Array.from({ length: 1000 }, (_, i) => i)
    const plan = cache.plan(t.where(t.c.id.isin(long)).spec)
    expect(plan.prepare).toBeUndefined()
    expect(cache.stats).toEqual({ size: 0, hits: 0, misses: 0 })
    cache.plan(t.where(t.c.id.isin([1, 2])).spec)
    expect(cache.stats.size).toBe(1)
  })

  test('bounded: the least recently used shape goes', () => {
    const cache = new PlanCache(3)
    for (const n of [1, 2, 3]) cache.plan(t.limit(n).spec)
    cache.plan(t.limit(1).spec) // 1 is used again: 2 is now the oldest
    cache.plan(t.limit(4).spec)
    expect(cache.stats.size).toBe(3)
    cache.plan(t.limit(1).spec)
    expect(cache.stats.hits).toBe(2)
    cache.plan(t.limit(2).spec)
    expect(cache.stats.misses).toBe(5)
  })

  test('a typed literal is still checked on a cached plan', async () => {
    const q = (s: string) => t.where(t.c.ts.gt(lit(s, 'timestamp')))
    expect((await q('2024-01-01T00:00:00Z').collect()).rows.length).toBeGreaterThan(0)
    const e = (await rejection(q('not a time').collect())) as Error
    expect(e.message).toContain("'not a time' is not a timestamp")
  })

  test('a schema change is a new shape: the next query sees the new column', async () => {
    const { db: d, t: u } = await fixture()
    try {
      const cache = planCacheFor(d.driver)
      await u.where(u.c.id.eq(1)).collect()
      const before = cache.stats.misses
      expect(Object.keys((await u.where(u.c.id.eq(2)).collect()).rows[0]!)).not.toContain('extra')
      expect(cache.stats.misses).toBe(before)
      await u.addColumn('extra', 'int?')
      const rows = (await u.where(u.c.id.eq(2)).collect()).rows
      expect(rows[0]).toHaveProperty('extra', null)
      expect(cache.stats.misses).toBe(before + 1)
    } finally {
      await d.close()
    }
  })
})

describe('plan cache: one per database', () => {
  test('two databases with a same-named table of other types do not share plans', async () => {
    const a = await memoryDb()
    const b = await memoryDb()
    try {
      const ta = await a.createTable('x', { k: 'int', v: 'string' }, { primaryKey: 'k' })
      const tb = await b.createTable('x', { k: 'int', v: 'float' }, { primaryKey: 'k' })
      await ta.insert([{ k: 1, v: 'one' }])
      await tb.insert([{ k: 1, v: 1.5 }])
      expect(planCacheFor(a.driver)).not.toBe(planCacheFor(b.driver))
      for (let i = 0; i < 3; i++) {
        expect((await ta.where(ta.c.k.eq(1)).collect()).rows).toEqual([{ k: 1, v: 'one' }])
        expect((await tb.where(tb.c.k.eq(1)).collect()).rows).toEqual([{ k: 1, v: 1.5 }])
      }
      expect(planCacheFor(a.driver).stats).toMatchObject({ size: 1, hits: 2, misses: 1 })
      expect(planCacheFor(b.driver).stats).toMatchObject({ size: 1, hits: 2, misses: 1 })
    } finally {
      await a.close()
      await b.close()
    }
  })
})
