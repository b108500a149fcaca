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
let transactions = 0
/** Statements sent outside transactions, in order. */
const statements: string[] = []

beforeAll(async () => {
  db = await memoryDb()
  // Count the COPYs the store is asked for (text and binary COPY on the driver, binary COPY inside a transaction):
  // the test of which path an insert took. Transactions and single statements are counted too: a direct load's
  // round trips to the store. Background transactions are not the insert's (the ANALYZE an earlier big write queued:
  // src/catalog/auto-analyze.ts).
  const driver = db.driver as Driver
  const copyFrom = driver.copyFrom!.bind(driver)
  driver.copyFrom = (target, csv) => ((copies++), copyFrom(target, csv))
  const driverCopyBinary = driver.copyBinaryFrom?.bind(driver)
  if (driverCopyBinary) driver.copyBinaryFrom = (target, payload) => ((copies++), driverCopyBinary(target, payload))
  const query = driver.query.bind(driver)
  driver.query = ((sql: string, params?: readonly unknown[], options?: object) => (statements.push(sql), query(sql, params, options))) as Driver['query']
  const transaction = driver.transaction.bind(driver)
  driver.transaction = (fn, options) => ((options?.priority !== 'background' && transactions++), transaction((tx) => {
    const copyBinaryFrom = tx.copyBinaryFrom?.bind(tx)
    if (copyBinaryFrom) tx.copyBinaryFrom = (...args) => ((copies++), copyBinaryFrom(...args))
    return fn(tx)
  }, options))
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

test('a COPYed insert takes its _rowid block in one statement and writes each COPY as one store call: one transaction in all', async () => {
  const t = await db.createTable('trips', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: -1, name: 'first' })
  const [copied, txs, said] = [copies, transactions, statements.length]
  await t.insert(Array.from({ length: 12_000 }, (_, id) => ({ id, name: `n${id}` })))
  expect(copies - copied).toBeGreaterThan(1)
  // The final step only: a COPY in a transaction of its own cost BEGIN and COMMIT as two more calls each.
  expect(transactions - txs).toBe(1)
  // nextval() and the sequence moved past the rows, once: not a second statement at the end.
  const sequence = statements.slice(said).filter((sql) => sql.includes('_rowid_seq'))
  expect(sequence).toHaveLength(1)
  const seq = await db.driver.query<{ last: number; top: number }>(
    `select (select last_value from tessera_data.t${t.id}__rowid_seq)::float8 as last, (select max(_rowid) from tessera_data.t${t.id})::float8 as top`)
  expect(seq.rows[0]!.last).toBe(seq.rows[0]!.top)
  await t.insert({ id: 20_000, name: 'after' })
  expect((await t.tail(1)).rows).toEqual([{ id: 20_000, name: 'after' }])
  expect(await t.count()).toBe(12_002)
})

test('a value no row may hold is refused before any COPY; a COPY refused for a row names it', async () => {
  const t = await db.createTable('ordered', { id: 'int', day: 'date' }, { primaryKey: 'id' })
  await t.insert({ id: 500, day: '2023-01-01' })
  // Row 500 has the existing key (its COPY would fail); row 1500's day does not exist (February 30th): validation
  // refuses it before anything is copied (it once passed validation and failed only when its batch was encoded).
  const rows = Array.from({ length: 4000 }, (_, id) => ({ id, day: id === 1500 ? '2023-02-30' : '2023-01-05' }))
  const e = (await rejection(t.insert(rows))) as TesseraError
  expect([e.code, e.details?.row, e.details?.column]).toEqual(['INVALID_ROW', 1500, 'day'])
  // Without the impossible day, the duplicate key is named at its row.
  rows[1500] = { id: 1500, day: '2023-01-05' }
  const dup = (await rejection(t.insert(rows))) as TesseraError
  expect([dup.code, dup.details?.row]).toEqual(['CONSTRAINT_VIOLATION', 500])
  rows[1500] = { id: 1500, day: '2023-02-30' }
  // Without the duplicate, the day is named at its row of the insert.
  rows[500] = { id: 100_500, day: '2023-01-05' }
  const d = (await rejection(t.insert(rows))) as TesseraError
  expect([d.code, d.details?.row, d.details?.column]).toEqual(['INVALID_ROW', 1500, 'day'])
  expect(await t.count()).toBe(1)
  expect(await physicalRows(t)).toBe(1)
})

test('an invalid row fails a big insert before anything is written, and lets go of the table (its load had started)', async () => {
  const t = await db.createTable('invalid', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  const rows: Record<string, unknown>[] = Array.from({ length: 5000 }, (_, id) => ({ id, name: `n${id}` }))
  rows[4321] = { id: 4321, name: 7 }
  const [copied, said] = [copies, statements.length]
  const e = (await rejection(t.insert(rows))) as TesseraError
  expect([e.code, e.details?.row, e.details?.column]).toEqual(['INVALID_ROW', 4321, 'name'])
  expect(copies).toBe(copied)
  expect(t.version).toBe(0)
  expect(await physicalRows(t)).toBe(0)
  // The load's _rowid block was taken while the rows were validated; the next insert numbers its rows after it.
  expect(statements.slice(said).filter((sql) => sql.includes('_rowid_seq'))).toHaveLength(1)
  rows[4321] = { id: 4321, name: 'fixed' }
  const s = await t.insert(rows)
  expect(s.version).toBe(1)
  expect((await t.where(t.c.id.eq(4321)).collect()).rows).toEqual([{ id: 4321, name: 'fixed' }])
  expect(await t.count()).toBe(5000)
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
