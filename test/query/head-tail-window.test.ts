import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// head(n) and tail(n) take the first and last n rows of the query's result: within its offset and limit, in its
// order (insertion order without one). tail ignored a limit and replaced an offset; head replaced a smaller limit.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('window_ten', { id: 'int' })
  await t.insert(Array.from({ length: 10 }, (_, i) => ({ id: i })))
})
afterAll(() => db.close())

const ids = (r: { rows: readonly Record<string, unknown>[] }) => r.rows.map((x) => x.id)

test('tail within offset and limit, with and without an order', async () => {
  expect(ids(await t.query().limit(3).tail(2))).toEqual([1, 2])
  expect(ids(await t.query().offset(2).limit(3).tail(2))).toEqual([3, 4])
  expect(ids(await t.query().offset(5).tail(2))).toEqual([8, 9])
  expect(ids(await t.query().offset(8).limit(5).tail(5))).toEqual([8, 9])
  expect(ids(await t.orderBy(t.c.id).offset(2).limit(3).tail(2))).toEqual([3, 4])
  expect(ids(await t.orderBy(t.c.id, 'desc').offset(1).limit(4).tail(2))).toEqual([6, 5])
  expect(ids(await t.query().tail(3))).toEqual([7, 8, 9])
  expect(ids(await t.query().offset(20).tail(3))).toEqual([])
})

test('head within offset and limit', async () => {
  expect(ids(await t.query().limit(3).head(5))).toEqual([0, 1, 2])
  expect(ids(await t.query().offset(4).limit(3).head(2))).toEqual([4, 5])
  expect(ids(await t.orderBy(t.c.id, 'desc').offset(1).head(2))).toEqual([8, 7])
})
