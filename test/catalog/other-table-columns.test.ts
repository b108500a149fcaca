import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The expressions a table writes or stores (an update's or delete's where and values, a computed column, a view's
// where, a job's column) resolved column references by name alone, dropping the table that qualifies them: with
// `other.c.id` they read the table's own `id`. `t.delete({ where: other.c.id.gt(0) })` deleted every row of t (other's
// only id is -5), and a computed column over `other.c.id` was computed from t's ids. A query refuses such a
// reference ("table 'other' is not part of this query"); these are refused the same way now, naming the column.

let db: Tessera
let t: Table
let other: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
  other = await db.createTable('dir_other', { id: 'int' })
  await other.insert([{ id: -5 }])
})
afterAll(async () => { await db.close() })

type Failure = { code?: string; message: string }
const refused = async (p: Promise<unknown>): Promise<Failure> => (await rejection(p)) as Failure
const rowsOfT = async () => (await t.orderBy(t.c.id).select('id', 's').collect()).rows

test("writes refuse another table's column in their where or values, and change nothing", async () => {
  const before = t.version
  const del = await refused(t.delete({ where: other.c.id.gt(0) }))
  expect(del.code).toBe('INVALID_EXPRESSION')
  expect(del.message).toBe("table 'dir_other' is not part of this expression (in dir_other.id): it reads the columns of 't' only")
  expect((await refused(t.update({ s: 'x' }, { where: other.c.id.gt(0) }))).message).toStartWith("table 'dir_other' is not part of this expression")
  expect((await refused(t.update({ s: other.c.id.astype('string') }))).message).toStartWith("table 'dir_other' is not part of this expression")
  expect(t.version).toBe(before)
  expect(await rowsOfT()).toEqual([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
})

test("a computed column or a view's where over another table's column is refused", async () => {
  const computed = await refused(t.addComputedColumn('o', other.c.id.add(1)))
  expect(computed.message).toBe("table 'dir_other' is not part of this expression (in dir_other.id): it reads the columns of 't' only")
  expect((await t.columns()).map((c) => c.name)).toEqual(['id', 's'])
  const view = await refused(db.createView('v_other', t, { where: other.c.id.gt(0) }))
  expect(view.message).toStartWith("table 'dir_other' is not part of this expression")
  expect((await refused(db.createView('v_other', t.where(other.c.id.gt(0))))).message).toStartWith("table 'dir_other' is not part of this expression")
  expect(await db.listTables()).not.toContain('v_other')
})

test("a view's expressions may still name its base's columns, which it carries", async () => {
  const v = await db.createView('v', t, { where: t.c.id.gt(1) })
  await v.addComputedColumn('up', t.c.s.upper())
  const w = await db.createView('w', v, { where: t.c.s.ne('zz') })
  await w.addComputedColumn('up2', v.c.up.lower())
  expect((await w.select('id', 'up', 'up2').collect()).rows).toEqual([{ id: 2, up: 'B', up2: 'b' }])
  expect((await refused(w.addComputedColumn('o', other.c.id))).message).toBe("table 'dir_other' is not part of this expression (in dir_other.id): it reads the columns of 'w' only (and those its bases 'v', 't' give it)")
})

test('a view of a view opened in a fresh process (its bases not loaded) still takes expressions over its columns', async () => {
  const home = tempDir()
  let d = await Tessera.open({ home, restoreFrom: await templateBlob() })
  const base = await d.createTable('base', { id: 'int', s: 'string' })
  await base.insert([{ id: 1, s: 'a' }])
  await d.createView('mid', await d.createView('low', base))
  await d.close()
  d = await Tessera.open({ home })
  try {
    const mid = await d.getTable('mid')
    await mid.addComputedColumn('up', mid.c.s.upper())
    await d.createView('top', mid, { where: mid.c.id.gt(0) })
    expect((await (await d.get('top')).select('up').collect()).rows).toEqual([{ up: 'A' }])
  } finally {
    await d.close()
  }
})
