// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/query/queries.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { agg, col } from '../../src/index.ts'
import type { Fixture } from './fixture.ts'
import { fixture, tsOnly } from './fixture.ts'
import { rejection } from '../support/settle.ts'

// Query clauses against hand-computed answers over the fixture (see operators.test.ts for its values; g = a, b, a, null, b).
import type { MakeDb } from './make-db.ts'

export function queriesSuite(makeDb: MakeDb): void {
  let fx: Fixture
  beforeAll(async () => { fx = await fixture(makeDb) })
  afterAll(async () => { await fx.db.close() })

  describe('group_by with every aggregate, in SQL and in TypeScript', () => {
    // group a: ids 1,3 (i 7,0; f 1.5,-2.25; s 'Hello World',null); b: ids 2,5 (i -7,3; f null,10; s 'bye','HELLO'); null: id 4
    const expected = [
      { g: 'a', n: 2, nf: 2, sum: 7, min: -2.25, max: 'Hello World', mean: -0.375, list: [1, 3] },
      { g: 'b', n: 2, nf: 1, sum: -4, min: 10, max: 'bye', mean: 10, list: [2, 5] },
      { g: null, n: 1, nf: 1, sum: null, min: 0, max: '', mean: 0, list: [4] },
    ]
    const sortLists = (rows: readonly Record<string, unknown>[]) => rows.map((r) => ({ ...r, list: [...(r.list as number[])].sort() }))
    test('SQL', async () => {
      const c = fx.t.c
      const r = await fx.t.groupBy(c.g).select({ g: c.g, n: agg.count(), nf: agg.count(c.f), sum: agg.sum(c.i), min: agg.min(c.f), max: agg.max(c.s), mean: agg.mean(c.f), list: agg.makeList(c.id) }).orderBy(c.g).collect()
      expect(sortLists(r.rows)).toEqual(expected)
    })
    test('TypeScript', async () => {
      const c = fx.t.c
      const r = await fx.t.groupBy(c.g).select({ g: c.g, n: agg.count(), nf: agg.count(tsOnly(c.f)), sum: agg.sum(tsOnly(c.i)), min: agg.min(tsOnly(c.f)), max: agg.max(tsOnly(c.s)), mean: agg.mean(tsOnly(c.f)), list: agg.makeList(tsOnly(c.id)) }).orderBy(c.g).collect()
      expect(sortLists(r.rows)).toEqual(expected)
    })
    test('aggregates without group_by, over no rows', async () => {
      const c = fx.t.c
      expect((await fx.t.select({ n: agg.count(), s: agg.sum(c.i), m: agg.mean(c.f) }).collect()).rows).toEqual([{ n: 5, s: 3, m: 9.25 / 4 }])
      expect((await fx.t.where(c.id.gt(100)).select({ n: agg.count(), s: agg.sum(c.i), l: agg.makeList(c.id) }).collect()).rows).toEqual([{ n: 0, s: null, l: [] }])
    })
    test('count_distinct and count of groups', async () => {
      expect((await fx.t.select({ n: agg.countDistinct(fx.t.c.g) }).collect()).rows).toEqual([{ n: 2 }])
      expect(await fx.t.groupBy(fx.t.c.g).select({ g: fx.t.c.g }).count()).toBe(3)
    })
  })

  describe('distinct, order, paging, head/tail, count', () => {
    test('distinct', async () => {
      expect((await fx.t.select(fx.t.c.g).distinct().orderBy(fx.t.c.g, 'desc').collect()).column('g')).toEqual([null, 'b', 'a'])
      expect(await fx.t.select(fx.t.c.g).distinct().count()).toBe(3)
    })
    test('distinct rows ordered by something not selected: a clear error naming the order key, on every store', async () => {
      const e = await rejection(fx.t.select(fx.t.c.g).distinct().orderBy(fx.t.c.id.mod(2)).collect())
      expect(e).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(String((e as Error).message)).toContain('distinct() rows can only be ordered by selected outputs')
      expect(String((e as Error).message)).toContain('% 2')
    })
    test('order asc/desc with nulls last ascending, first descending; SQL and TS agree', async () => {
      const c = fx.t.c
      expect((await fx.t.orderBy(c.f).collect()).column('id')).toEqual([3, 4, 1, 5, 2])
      expect((await fx.t.orderBy(c.f, 'desc').collect()).column('id')).toEqual([2, 5, 1, 4, 3])
      expect((await fx.t.orderBy(tsOnly(c.f), 'desc').collect()).column('id')).toEqual([2, 5, 1, 4, 3])
      expect((await fx.t.orderBy(c.g).orderBy(c.id, 'desc').collect()).column('id')).toEqual([3, 1, 5, 2, 4])
    })
    test('limit/offset, in SQL and after a TS filter', async () => {
      expect((await fx.t.orderBy(fx.t.c.id, 'desc').limit(2).offset(1).collect()).column('id')).toEqual([4, 3])
      expect((await fx.t.where(tsOnly(fx.t.c.i).gt(-10)).limit(2).offset(1).collect()).column('id')).toEqual([2, 3])
    })
    test('head and tail follow insertion order', async () => {
      expect((await fx.t.head(2)).column('id')).toEqual([1, 2])
      expect((await fx.t.tail(2)).column('id')).toEqual([4, 5])
      expect((await fx.t.orderBy(fx.t.c.i).tail(2)).column('id')).toEqual([1, 4])
      expect((await fx.t.where(tsOnly(fx.t.c.b)).tail(1)).column('id')).toEqual([4])
    })
    test('count with a TS-filtered where', async () => {
      expect(await fx.t.where(fx.t.c.i.gt(0)).count()).toBe(2)
      expect(await fx.t.where(tsOnly(fx.t.c.i).gt(0)).count()).toBe(2)
      expect(await fx.t.where(tsOnly(fx.t.c.i).gt(-10)).limit(3).count()).toBe(3)
    })
  })

  describe('errors name the expression', () => {
    test('unknown column', async () => {
      const err = await fx.t.select({ v: col('nope').add(1) }).collect().catch((e) => e)
      expect(err.code).toBe('COLUMN_NOT_FOUND')
      expect(err.message).toContain("unknown column 'nope' in 'q/t'")
    })
    test('wrong type', async () => {
      const err = await fx.t.select({ v: fx.t.c.s.add(1) }).collect().catch((e) => e)
      expect(err.code).toBe('INVALID_EXPRESSION')
      expect(err.message).toBe('add() needs numbers, got string? and int in (q/t.s + 1)')
      const w = await fx.t.where(fx.t.c.i).collect().catch((e) => e)
      expect(w.message).toBe('where() needs a boolean expression, got int from q/t.i')
    })
    test('with group_by, a plain column that is not a group key is named, not a database error', async () => {
      const err = await fx.t.groupBy(fx.t.c.g).select({ g: fx.t.c.g, id: fx.t.c.id }).collect().catch((e) => e)
      expect(err.code).toBe('INVALID_EXPRESSION')
      expect(err.message).toBe("output 'id' (q/t.id) must be an aggregate or one of the group_by expressions (q/t.g)")
      // built from group keys and aggregates is fine
      const ok = await fx.t.groupBy(fx.t.c.g).select({ G: fx.t.c.g.upper(), n: agg.count().add(1) }).orderBy(fx.t.c.g.upper()).collect()
      expect(ok.rows.length).toBeGreaterThan(0)
    })
    test('a JSON-form node is an expression, not a literal', async () => {
      expect((await fx.t.select({ v: { fn: 'add', args: [{ col: 'i' }, { lit: 1 }] } }).orderBy('id').collect()).column('v')).toEqual([8, -6, 1, null, 4])
    })
  })

  describe('sample', () => {
    test('same seed, same rows; another seed, other rows; fraction ≈ expected on 1000 rows', async () => {
      const big = await fx.db.createTable('q/big', { k: 'int' })
      await big.insert(Array.from({ length: 1000 }, (_, k) => ({ k })))
      const a = (await big.sample({ n: 10, seed: 7 }).collect()).column('k')
      expect(a).toHaveLength(10)
      expect((await big.sample({ n: 10, seed: 7 }).collect()).column('k')).toEqual(a)
      expect((await big.sample({ n: 10, seed: 8 }).collect()).column('k')).not.toEqual(a)
      const f = (await big.sample({ fraction: 0.3, seed: 1 }).collect()).column('k')
      expect(f.length).toBeGreaterThan(240)
      expect(f.length).toBeLessThan(360)
      expect((await big.sample({ fraction: 0.3, seed: 1 }).collect()).column('k')).toEqual(f)
      expect(await big.sample({ fraction: 0, seed: 1 }).count()).toBe(0)
      expect(await big.sample({ fraction: 1, seed: 1 }).count()).toBe(1000)
    })
  })

  describe('joins', () => {
    test('inner, left with unmatched rows, ambiguous column', async () => {
      const u = await fx.db.createTable('q/u', { uid: 'int', id: 'int', name: 'string' })
      await u.insert([{ uid: 1, id: 1, name: 'one' }, { uid: 2, id: 1, name: 'uno' }, { uid: 3, id: 3, name: 'three' }, { uid: 4, id: 99, name: 'orphan' }])
      const t = fx.t
      const inner = await t.join(u, { on: t.c.id.eq(u.c.id) }).select({ id: t.c.id, name: u.c.name }).orderBy(u.c.uid).collect()
      expect(inner.rows).toEqual([{ id: 1, name: 'one' }, { id: 1, name: 'uno' }, { id: 3, name: 'three' }])
      const left = await t.join(u, { on: t.c.id.eq(u.c.id), how: 'left' }).select({ id: t.c.id, name: u.c.name }).orderBy(t.c.id).orderBy(u.c.uid).collect()
      expect(left.rows).toEqual([{ id: 1, name: 'one' }, { id: 1, name: 'uno' }, { id: 2, name: null }, { id: 3, name: 'three' }, { id: 4, name: null }, { id: 5, name: null }])
      const err = await t.join(u, { on: t.c.id.eq(u.c.id) }).select({ x: col('id') }).collect().catch((e) => e)
      expect(err.message).toBe("column 'id' is ambiguous; qualify it with its table (e.g. q/t.c.id)")
      const all = await t.join(u, { on: t.c.id.eq(u.c.id) }).orderBy(u.c.uid).limit(1).collect()
      expect(all.columns.map((c) => c.name)).toEqual(['id', 'g', 'i', 'f', 's', 'j', 'ts', 'd', 'arr', 'b', 'uid', 'u_id', 'name'])
    })
  })

  describe('results', () => {
    test('row, column, iteration, toObjects, toValibot', async () => {
      const r = await fx.t.select({ id: fx.t.c.id, s: fx.t.c.s, ts: fx.t.c.ts }).orderBy('id').collect()
      expect(r.length).toBe(5)
      expect(r.row(1)).toEqual({ id: 2, s: 'bye', ts: new Date('2024-06-15T12:30:00Z') })
      expect(r.row(-1).id).toBe(5)
      expect(r.column('s')).toEqual(['Hello World', 'bye', null, '', 'HELLO'])
      expect(() => r.column('nope' as 's')).toThrow("no column 'nope' in this result; columns are: id, s, ts")
      expect(() => r.row(9)).toThrow('row 9 is out of range (result has 5 rows)')
      expect([...r].map((x) => x.id)).toEqual([1, 2, 3, 4, 5])
      expect(r.toObjects()[0]).toEqual({ id: 1, s: 'Hello World', ts: new Date('2024-01-01T00:00:00Z') })
      expect(r.columns).toEqual([{ name: 'id', type: 'int' }, { name: 's', type: 'string?' }, { name: 'ts', type: 'timestamp?' }])
      const ok = r.toValibot(v.object({ id: v.number(), s: v.nullable(v.string()), ts: v.nullable(v.date()) }))
      expect(ok[3]).toEqual({ id: 4, s: '', ts: new Date('2023-03-04T05:06:07Z') })
      const bad = (() => { try { r.toValibot(v.object({ id: v.number(), s: v.string() })) } catch (e) { return e as { code: string; message: string } } })()
      expect(bad?.code).toBe('INVALID_ROW')
      expect(bad?.message).toMatch(/^row 2, field 's': /)
    })
  })

  describe('stream and time travel', () => {
    test('stream() over 10k rows in batches; a concurrent insert does not change what it returns', async () => {
      const big = await fx.db.createTable('q/stream', { k: 'int' })
      for (let b = 0; b < 10; b++) await big.insert(Array.from({ length: 1000 }, (_, k) => ({ k: b * 1000 + k })))
      const seen: number[] = []
      let inserted = false
      for await (const row of big.stream({ batchSize: 2500 })) {
        seen.push(row.k as number)
        if (!inserted && seen.length === 3000) {
          inserted = true
          await big.insert([{ k: -1 }, { k: -2 }])
        }
      }
      expect(inserted).toBe(true)
      expect(seen).toHaveLength(10000)
      expect(seen.every((k, i) => k === i)).toBe(true)
      expect(await big.count()).toBe(10002)
    })
    test("db.get('t:N') queries the older rows with the older schema", async () => {
      const h = await fx.db.createTable('q/h', { k: 'int' })
      await h.insert([{ k: 1 }, { k: 2 }])
      await h.addColumn('extra', 'string?')
      await h.insert([{ k: 3, extra: 'x' }])
      const v1 = await fx.db.get('q/h:1')
      expect((await v1.select({ k: v1.c.k, d: v1.c.k.mul(10) }).orderBy('k').collect()).rows).toEqual([{ k: 1, d: 10 }, { k: 2, d: 20 }])
      expect((await v1.collect()).columns.map((c) => c.name)).toEqual(['k'])
      const err = await v1.select({ e: col('extra') }).collect().catch((e) => e)
      expect(err.code).toBe('COLUMN_NOT_FOUND')
      expect(await v1.where(tsOnly(v1.c.k).gt(1)).count()).toBe(1)
      expect((await h.collect()).column('extra')).toEqual([null, null, 'x'])
    })
  })

  describe('scalar indexes (addScalarIndex)', () => {
    test('filters answer the same with and without one; columns() shows it; drop and time travel still answer', async () => {
      const t = await fx.db.createTable('q/scalar', { id: 'int', n: 'int', kind: 'string', at: 'timestamp' })
      await t.insert(Array.from({ length: 300 }, (_, id) => ({ id, n: id % 30, kind: `k${id % 4}`, at: new Date(Date.UTC(2026, 0, 1 + (id % 20))) })))
      const c = t.c
      const ask = async () => [
        (await t.where(c.n.lt(2)).select({ id: c.id }).orderBy(c.id).collect()).column('id'),
        (await t.where(c.kind.eq('k3').and(c.n.ge(25))).select({ id: c.id }).orderBy(c.id).collect()).column('id'),
        await t.where(c.kind.isin(['k0', 'k1']).and(c.at.lt(new Date(Date.UTC(2026, 0, 3))))).count(),
      ]
      const before = await ask()
      expect(before[0]).toHaveLength(20)
      const v0 = t.version
      for (const col of ['n', 'kind', 'at']) await t.addScalarIndex(col)
      expect(t.columns().filter((x) => x.indexed).map((x) => x.name)).toEqual(['n', 'kind', 'at'])
      expect(await ask()).toEqual(before)
      // Rows written after the index are found through it.
      await t.insert({ id: 300, n: 1, kind: 'k3', at: new Date(Date.UTC(2026, 0, 1)) })
      expect((await t.where(c.n.lt(2)).select({ id: c.id }).orderBy(c.id).collect()).column('id')).toEqual([...(before[0] as number[]), 300])
      const old = await fx.db.get(`q/scalar:${v0}`)
      expect(await old.where(old.c.n.lt(2)).count()).toBe(20)
      await t.dropScalarIndex('kind')
      expect(t.columns().find((x) => x.name === 'kind')!.indexed).toBeUndefined()
      expect((await t.where(c.kind.eq('k3').and(c.n.ge(25))).count())).toBe((before[1] as number[]).length)
      expect(await rejection(t.addScalarIndex('n'))).toMatchObject({ code: 'INDEX_ALREADY_EXISTS' })
      expect(await rejection(t.dropScalarIndex('kind'))).toMatchObject({ code: 'INDEX_NOT_FOUND' })
    })
  })
}
