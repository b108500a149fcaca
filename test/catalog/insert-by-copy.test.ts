import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Driver } from '../../src/store/index.ts'
import type { Table, TesseraError } from '../../src/index.ts'
import { Tessera, udf } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A big library insert on PGlite goes into the data table by COPY under one not-yet-visible version (the direct bulk
// load of imports, Table#insertByCopy) instead of jsonb statements: the same rows, counts, errors and all-or-nothing
// as the staged insert, with errors numbered by the row of the insert.

let db: Tessera
let copies = 0

beforeAll(async () => {
  db = await memoryDb()
  // Count the COPYs the store is asked for (text COPY on the driver, binary COPY inside a transaction): the test of
  // which path an insert took.
  const driver = db.driver as Driver
  const copyFrom = driver.copyFrom!.bind(driver)
  driver.copyFrom = (target, csv) => ((copies++), copyFrom(target, csv))
  const transaction = driver.transaction.bind(driver)
  driver.transaction = (fn, options) => transaction((tx) => {
    const copyBinaryFrom = tx.copyBinaryFrom?.bind(tx)
    if (copyBinaryFrom) tx.copyBinaryFrom = (...args) => ((copies++), copyBinaryFrom(...args))
    return fn(tx)
  }, options)
})
afterAll(async () => {
  await db.close()
})

const people = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ id: from + k, name: `name ${from + k}`, score: (from + k) / 7, tags: { k: from + k } }))

async function physicalRows(t: Table): Promise<number> {
  const r = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id}`)
  return r.rows[0]!.n
}

test('12,000 rows: written by COPY as one version, in insertion order, the _rowid sequence moved past them', async () => {
  const t = await db.createTable('people', { id: 'int', name: 'string', score: 'float', tags: 'json' }, { primaryKey: 'id' })
  const before = copies
  const s = await t.insert(people(0, 12_000))
  expect(copies - before).toBeGreaterThan(1) // several COPYs, each sized to a step's store time
  expect(s.numInserted).toBe(12_000)
  expect(s.version).toBe(1)
  expect((await t.history()).map((h) => [h.version, h.kind, h.inserted])).toEqual([[1, 'insert', 12_000], [0, 'create', 0]])
  expect((await t.head(2)).rows).toEqual([people(0, 1)[0]!, people(1, 1)[0]!])
  expect((await t.tail(1)).rows).toEqual(people(11_999, 1))
  expect((await t.where(t.c.id.eq(4321)).collect()).rows).toEqual(people(4321, 1))
  // A small insert afterwards is one statement and lands after the COPYed rows.
  const small = copies
  await t.insert({ id: -1, name: 'last', score: 0, tags: null })
  expect(copies).toBe(small)
  expect((await t.tail(1)).rows).toEqual([{ id: -1, name: 'last', score: 0, tags: null }])
})

test('a key an existing row has: nothing is written, the error names the row of the insert', async () => {
  const t = await db.createTable('dups', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: 9_500, name: 'existing' })
  const rows = Array.from({ length: 12_000 }, (_, i) => ({ id: i, name: `n${i}` }))
  const e = (await rejection(t.insert(rows))) as TesseraError
  expect(e.code).toBe('CONSTRAINT_VIOLATION')
  expect(e.message).toContain("duplicate primary key (id)=(9500): 'dups' already has a row with this key")
  expect(e.details?.row).toBe(9_500)
  expect(t.version).toBe(1)
  expect(await t.count()).toBe(1)
  expect(await physicalRows(t)).toBe(1) // the rows of the COPYs before the failing one were removed too
  // The same key twice in the input is found before anything is written.
  const twice = (await rejection(t.insert([...rows.slice(0, 3000).map((r) => ({ ...r, id: r.id + 20_000 })), { id: 20_005, name: 'again' }]))) as TesseraError
  expect(twice.code).toBe('CONSTRAINT_VIOLATION')
  expect(twice.details?.row).toBe(3000)
  expect(await physicalRows(t)).toBe(1)
})

test("TypeScript-computed columns and onError: 'ignore' go by COPY with their errors per cell; SQL-computed ones stay staged", async () => {
  const check = udf({ name: 'check_id', returns: 'string', params: ['int'], fn: (id: number) => { if (id % 1000 === 7) throw new Error(`bad ${id}`); return `ok ${id}` } })
  const t = await db.createTable('checked', { id: 'int' }, { primaryKey: 'id' })
  await t.addComputedColumn('verdict', check(t.c.id), { onError: 'ignore' })
  const before = copies
  const s = await t.insert(Array.from({ length: 5000 }, (_, id) => ({ id })), { onError: 'ignore' })
  expect(copies).toBeGreaterThan(before)
  expect(s.numInserted).toBe(5000)
  expect(s.numExcs).toBe(5)
  expect(s.colsWithExcs).toEqual(['verdict'])
  const bad = await t.where(t.c.verdict.errortype.isNotNull()).select('id', t.c.verdict.errormsg).orderBy(t.c.id).collect()
  expect(bad.rows.map((r) => r.id)).toEqual([7, 1007, 2007, 3007, 4007])
  expect(String(bad.rows[0]!.verdict_errormsg ?? Object.values(bad.rows[0]!)[1])).toContain('bad 7')
  expect((await t.where(t.c.id.eq(8)).collect()).rows).toEqual([{ id: 8, verdict: 'ok 8' }])

  const u = await db.createTable('upper', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await u.addComputedColumn('up', u.c.name.upper())
  const staged = copies
  await u.insert(Array.from({ length: 3000 }, (_, id) => ({ id, name: `n${id}` })))
  expect(copies).toBe(staged) // COPY cannot compute: the staged insert computes in SQL
  expect((await u.where(u.c.id.eq(2999)).collect()).rows).toEqual([{ id: 2999, name: 'n2999', up: 'N2999' }])
})

test('a column added while the rows were prepared: the insert prepares again for the new columns', async () => {
  const t = await db.createTable('racing', { id: 'int' }, { primaryKey: 'id' })
  let added: Promise<unknown> | undefined
  // The UDF runs while the insert prepares its rows, outside the table's lock: a schema change gets in between.
  const slow = udf({ name: 'add_a_column', returns: 'int', params: ['int'], fn: async (id: number) => {
    added ??= t.addColumn('extra', 'string?')
    await added
    return id * 2
  } })
  await t.addComputedColumn('twice', slow(t.c.id))
  const before = copies
  const s = await t.insert(Array.from({ length: 2500 }, (_, id) => ({ id })))
  expect(copies).toBe(before) // the load was refused before its first COPY; the staged insert wrote the rows
  expect(s.numInserted).toBe(2500)
  expect(t.columns().map((c) => c.name)).toContain('extra')
  expect((await t.where(t.c.id.eq(2499)).collect()).rows).toEqual([{ id: 2499, twice: 4998, extra: null }])
  expect(await t.count()).toBe(2500)
})

test('views of the table follow a COPYed insert as one change', async () => {
  const t = await db.createTable('based', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  const low = await db.createView('low_ids', t, { where: t.c.id.lt(100) })
  const before = copies
  await t.insert(Array.from({ length: 3000 }, (_, id) => ({ id, name: `n${id}` })))
  expect(copies).toBeGreaterThan(before)
  expect(await low.count()).toBe(100)
  expect((await low.where(low.c.id.eq(99)).collect()).rows).toEqual([{ id: 99, name: 'n99' }])
})
