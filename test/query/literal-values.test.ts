import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { agg, ConcurrencyError, lit, RequestError } from '../../src/index.ts'
import type { Query, Table, Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Literals are checked against the type they stand for before any SQL runs, as inserted values are; order keys
// follow the grouping rule; a table whose columns changed under a query is a retryable conflict. Each of these
// reached the store unchecked and failed there: a bare "Invalid Date", a driver's "Invalid input for bytea type",
// Postgres's 42803 or 42703, none a RequestError naming the part of the query that was wrong.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('lv', { id: 'int', at: 'timestamp?', d: 'date?', b: 'binary?', v: 'array<float32>[2]?', s: 'string' })
  await t.insert([
    { id: 1, at: new Date('2024-01-01T00:00:00Z'), d: '2024-01-01', b: new Uint8Array([0, 0, 0]), v: [1, 2], s: 'a' },
    { id: 2, at: new Date('2024-03-01T00:00:00Z'), d: '2024-03-01', b: null, v: null, s: 'b' },
  ])
})
afterAll(() => db.close())

async function refused(q: Query): Promise<RequestError> {
  const e = await rejection(q.collect())
  expect(e).toBeInstanceOf(RequestError)
  return e as RequestError
}

describe('a string compared with a timestamp or date column', () => {
  for (const fn of ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const) {
    test(`${fn}: a text that is no timestamp is INVALID_EXPRESSION naming it and the comparison`, async () => {
      const e = await refused(t.where(t.c.at[fn]('yesterday')))
      expect(e.code).toBe('INVALID_EXPRESSION')
      expect(e.message).toContain("'yesterday' is not a timestamp")
      expect(e.details?.expression).toContain('yesterday')
      expect(e.details?.expression).toContain('at')
    })
  }

  test('a day its month lacks is refused for timestamps as for dates, not read as March 1', async () => {
    for (const c of [t.c.at, t.c.d]) {
      const e = await refused(t.where(c!.ge('2024-02-30')))
      expect(e.code).toBe('INVALID_EXPRESSION')
      expect(e.message).toContain('February 2024 has 29 days')
    }
    // The same day that exists still compares.
    expect((await t.where(t.c.at.ge('2024-02-29')).select('id').collect()).rows).toEqual([{ id: 2 }])
    expect((await t.where(t.c.d.ge('2024-02-29')).select('id').collect()).rows).toEqual([{ id: 2 }])
  })

  test('a cached plan of the same shape refuses it the same way', async () => {
    const q = (s: string) => t.where(t.c.at.gt(s)).select('id')
    expect((await q('2024-02-01T00:00:00Z').collect()).rows).toEqual([{ id: 2 }])
    expect((await q('2023-02-01T00:00:00Z').collect()).rows).toEqual([{ id: 1 }, { id: 2 }])
    const e = await refused(q('not a time'))
    expect(e.message).toContain("'not a time' is not a timestamp value in ")
  })
})

describe('typed literals', () => {
  const bad: [string, unknown, string][] = [
    ['binary', { a: 1 }, 'expected bytes'],
    ['binary', 'not base64!', 'expected bytes'],
    ['date', true, 'expected a date'],
    ['timestamp', true, 'expected a Date or an ISO 8601 timestamp'],
    ['array<float32>[2]', 1.5, 'expected an array'],
    ['array<float32>[2]', [1, 2, 3], 'dimension 0 has length 3, expected 2'],
    ['array<int32>[?]', -1, 'expected an array'],
    ['int', 1.5, 'expected an integer'],
    ['string', 5, 'expected a string'],
  ]
  for (const [type, value, problem] of bad) {
    test(`${JSON.stringify(value)} as ${type}: refused in select, where and update values`, async () => {
      for (const q of [t.select({ x: lit(value, type) }), t.where(t.c.v.eq(lit(value, type)).or(t.c.s.eq('x')))]) {
        const e = await refused(q)
        expect(e.code).toBe('INVALID_EXPRESSION')
        expect(e.message).toContain(`is not a${/^[aeio]/.test(type) ? 'n' : ''} ${type} value`)
        expect(e.message).toContain(problem)
      }
      const e = await rejection(t.update({ s: lit(value, type) }))
      expect(e).toBeInstanceOf(RequestError)
    })
  }

  test('base64 text is a binary value: it is bytes in SQL', async () => {
    expect((await t.select({ x: lit('AQID', 'binary') }).limit(1).collect()).rows).toEqual([{ x: new Uint8Array([1, 2, 3]) }])
    expect((await t.where(t.c.b.eq(lit('AAAA', 'binary'))).select('id').collect()).rows).toEqual([{ id: 1 }])
  })

  test('values of their type still work, null included', async () => {
    const r = await t.select({ a: lit('2024-01-01', 'date'), v: lit([1, 2], 'array<float32>[2]'), n: lit(null, 'int'), f: lit(2, 'float') }).limit(1).collect()
    expect(r.rows).toEqual([{ a: '2024-01-01', v: [1, 2], n: null, f: 2 }])
  })
})

describe('order keys', () => {
  test('an aggregate in orderBy of a query without groups is INVALID_EXPRESSION naming it', async () => {
    const e = await refused(t.orderBy(agg.count()))
    expect(e.code).toBe('INVALID_EXPRESSION')
    expect(e.details?.expression).toBe('count()')
  })

  test('a grouped query orders by aggregates and group keys, not by other columns', async () => {
    expect((await t.groupBy(t.c.s).select({ s: t.c.s, n: agg.count() }).orderBy(t.c.s, 'desc').collect()).rows).toEqual([{ s: 'b', n: 1 }, { s: 'a', n: 1 }])
    expect((await t.groupBy(t.c.s).select({ s: t.c.s }).orderBy(agg.max(t.c.id), 'desc').collect()).rows).toEqual([{ s: 'b' }, { s: 'a' }])
    const e = await refused(t.groupBy(t.c.s).select({ s: t.c.s }).orderBy(t.c.id))
    expect(e.code).toBe('INVALID_EXPRESSION')
    expect(e.message).toContain('lv.id')
  })
})

test('a sample seed beyond ±2^53 or with a fraction is INVALID_ARGUMENT naming the seed', async () => {
  for (const seed of [1e300, 1.5]) {
    const e = await rejection(async () => t.sample({ n: 1, seed }).collect())
    expect(e).toBeInstanceOf(RequestError)
    expect((e as RequestError).message).toContain('sample seed')
  }
})

test("a column a revert dropped after the query was planned with it: a retryable conflict naming the table", async () => {
  const r = await db.createTable('lv_revert', { id: 'int' })
  await r.insert([{ id: 1 }])
  await r.addColumn('extra', 'int?')
  // Built against the schema with 'extra'; the revert then drops its physical column before the query runs.
  const q = r.query()
  await r.revert()
  for (const run of [() => q.collect(), () => q.where(r.c.id.gt(0)).limit(1).collect()]) {
    const e = await rejection(run)
    expect(e).toBeInstanceOf(ConcurrencyError)
    expect((e as ConcurrencyError).code).toBe('CONCURRENCY_CONFLICT')
    expect((e as ConcurrencyError).message).toContain("'lv_revert' changed its columns while this query ran")
  }
  // Built again, it runs against the new schema.
  expect((await r.query().collect()).rows).toEqual([{ id: 1 }])
})
