import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera, udf } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A TypeScript-computed column (onError 'abort') failing on a row stops the write and names the row. The index it
// failed at is its place in the batch computed: an insert's input, but for an update the rows its where matched, and
// for a batchUpdate or upsert its rows regrouped by the columns they set, then its inserts apart. Those errors said
// "row 0" or "row 1" of the wrong batch (an upsert of [ok, bad] blamed row 0), and told the caller to pass
// onError: 'ignore', which update, batchUpdate and upsert do not take. A view's own column failing as the view follows
// its base named the row's place in the sync's batch, and offered the base write's onError, which does not reach
// the view's columns.

const suffix = udf({
  name: 'suffix_or_fail', returns: 'string', params: ['string'],
  fn: (s: string) => {
    if (s === 'bad') throw new TypeError('no suffix for bad')
    return `${s}!`
  },
})

type Failure = { code?: string; message: string; details?: Record<string, unknown> }
const failure = async (p: Promise<unknown>): Promise<Failure> => (await rejection(p)) as Failure

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', a: 'string', n: 'int?' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, a: 'x', n: 1 }, { id: 2, a: 'y', n: 2 }, { id: 3, a: 'z', n: 3 }])
  await t.addComputedColumn('fa', suffix(t.c.a))
})
afterAll(async () => { await db.close() })

const unchanged = async () => {
  expect((await t.orderBy(t.c.id).select('id', 'a', 'fa').collect()).rows).toEqual([
    { id: 1, a: 'x', fa: 'x!' }, { id: 2, a: 'y', fa: 'y!' }, { id: 3, a: 'z', fa: 'z!' },
  ])
}

test('an upsert names the failing row by its place in the input and its key', async () => {
  const e = await failure(t.upsert([{ id: 1, a: 'ok' }, { id: 99, a: 'bad' }]))
  expect(e.code).toBe('COMPUTATION_FAILED')
  expect(e.message).toStartWith("row 1 (primary key [99]), computed column 'fa' of 't': TypeError: no suffix for bad")
  expect(e.details).toMatchObject({ row: 1, column: 'fa' })
  await unchanged()
})

test('a batchUpdate whose rows set different columns names the input row, not its place in a group', async () => {
  // Grouped by set columns: [row 0, row 2] set a, [row 1] sets n; row 2 is the second of its group.
  const e = await failure(t.batchUpdate([{ id: 1, a: 'ok' }, { id: 2, n: 5 }, { id: 3, a: 'bad' }]))
  expect(e.message).toStartWith("row 2 (primary key [3]), computed column 'fa' of 't'")
  expect(e.details).toMatchObject({ row: 2, column: 'fa' })
  await unchanged()
})

test('an update names the matched row by its key, and does not offer an option update does not take', async () => {
  const e = await failure(t.update({ a: t.c.a.replace('z', 'bad') }))
  expect(e.message).toStartWith("the row with primary key [3], computed column 'fa' of 't': TypeError: no suffix for bad")
  expect(e.details).toMatchObject({ key: [3], column: 'fa' })
  expect(e.message).toContain("the column was added with onError 'abort'")
  expect(e.message).not.toContain("use onError: 'ignore'")
  await unchanged()
})

test('in a table without a primary key, by the values the column read', async () => {
  const plain = await db.createTable('plain', { a: 'string', n: 'int' })
  await plain.insert([{ a: 'x', n: 1 }, { a: 'y', n: 2 }])
  await plain.addComputedColumn('fa', suffix(plain.c.a))
  const e = await failure(plain.update({ a: 'bad' }, { where: plain.c.n.eq(2) }))
  expect(e.message).toMatch(/^a row with \{[^}]*"a":"bad"[^}]*\}, computed column 'fa' of 'plain': TypeError: no suffix for bad/)
})

test("a new column's backfill names the row by its key and offers addComputedColumn's onError", async () => {
  const plain = await db.createTable('keyed', { id: 'int', a: 'string' }, { primaryKey: 'id' })
  await plain.insert([{ id: 10, a: 'x' }, { id: 20, a: 'bad' }])
  const e = await failure(plain.addComputedColumn('fa', suffix(plain.c.a)))
  expect(e.message).toStartWith("the row with primary key [20], computed column 'fa' of 'keyed': TypeError: no suffix for bad; nothing was written (use onError: 'ignore'")
  expect((await plain.columns()).map((c) => c.name)).toEqual(['id', 'a'])
})

test('an insert still names the row by its place in the input and offers its onError', async () => {
  const e = await failure(t.insert([{ id: 7, a: 'ok' }, { id: 8, a: 'bad' }]))
  expect(e.message).toStartWith("row 1, computed column 'fa' of 't': TypeError: no suffix for bad; nothing was written (use onError: 'ignore'")
  expect(e.details).toMatchObject({ row: 1, column: 'fa' })
  await unchanged()
})

test("a view's own column failing on a base row names that row by its values and says the view did not follow", async () => {
  const base = await db.createTable('vbase', { id: 'int', a: 'string' })
  await base.insert([{ id: 1, a: 'x' }])
  const v = await db.createView('vfollow', base)
  await v.addComputedColumn('fa', suffix(v.c.a))
  await base.insert([{ id: 7, a: 'fine' }, { id: 8, a: 'bad' }])
  const e = await failure(db.getTable('vfollow'))
  expect(e.code).toBe('COMPUTATION_FAILED')
  expect(e.message).toStartWith(`a row with {"id":8,"a":"bad"}, computed column 'fa' of 'vfollow': TypeError: no suffix for bad; the view did not follow this change of its base (its column was added with onError 'abort'`)
})
