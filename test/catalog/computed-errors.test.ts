import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A computed column whose statement fails in SQL (a cast of a value that is not of its type) names the column and its
// expression, and on insert the row, as a column computed in TypeScript does; before, the store's own words named
// neither ("bad value in 't': invalid input syntax for type bigint: "x"").

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('t', { id: 'int', s: 'string?' })
  await t.insert([{ id: 1, s: '12' }, { id: 2, s: 'x' }])
})
afterAll(async () => { await db.close() })

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: { code: string; message: string; details?: Record<string, unknown> }) => e)

test('a backfill names the column, its expression and the value; the column is not added', async () => {
  const e = await failure(t.addComputedColumn('as_int', t.c.s.astype('int')))
  expect(e?.code).toBe('COMPUTATION_FAILED')
  expect(e?.message).toContain(`computed column 'as_int' of 't': cannot cast "x" to int in astype(s, type="int")`)
  expect(e?.details).toMatchObject({ column: 'as_int' })
  expect((await t.columns()).map((c) => c.name)).toEqual(['id', 's'])
})

test('an insert names the row and the column; nothing is written', async () => {
  await t.where(t.c.id.eq(2)).delete()
  await t.addComputedColumn('as_int', t.c.s.astype('int'))
  const before = t.version
  const e = await failure(t.insert([{ id: 3, s: '7' }, { id: 4, s: 'oops' }, { id: 5, s: '8' }]))
  expect(e?.code).toBe('COMPUTATION_FAILED')
  expect(e?.message).toStartWith(`row 1, computed column 'as_int' of 't': cannot cast "oops" to int`)
  expect(e?.details).toMatchObject({ row: 1, column: 'as_int' })
  expect(t.version).toBe(before)
  expect(await t.count()).toBe(1)
})

test('an update that recomputes the column names it', async () => {
  const e = await failure(t.update({ s: 'bad' }, { where: t.c.id.eq(1) }))
  expect(e?.code).toBe('COMPUTATION_FAILED')
  expect(e?.message).toContain(`computed column 'as_int' of 't': cannot cast "bad" to int`)
  expect((await t.collect()).rows).toEqual([{ id: 1, s: '12', as_int: 12 }])
})
