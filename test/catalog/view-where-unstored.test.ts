import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'

// A view's where over a base column computed when read (stored: false) compiled to that column's data column, which
// does not exist: createView failed with the store's own error (column "b.c2" does not exist, a 500 over HTTP). It
// filters on the column's definition now, as the base's own queries and updates do, and follows the base's renames.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
  await t.addComputedColumn('u', t.c.s.upper(), { stored: false })
})
afterAll(async () => { await db.close() })

const ids = async (path: string) => (await (await db.get(path)).select('id').orderBy('id').collect()).rows.map((r) => r.id)

test("a view filtering on a stored: false base column has the rows its definition picks, and follows base changes", async () => {
  await db.createView('v', t, { where: t.c.u.eq('B') })
  await db.createView('vq', t.where(t.c.u.ne('B')))
  expect(await ids('v')).toEqual([2])
  expect(await ids('vq')).toEqual([1])
  await t.update({ s: 'b' }, { where: t.c.id.eq(1) })
  await t.insert([{ id: 3, s: 'c' }])
  expect(await ids('v')).toEqual([1, 2])
  expect(await ids('vq')).toEqual([3])
  // Renames of the column and of what it reads reach the view's filter.
  await t.renameColumn('s', 'str')
  await t.renameColumn('u', 'upper')
  await t.update({ str: 'x' }, { where: t.c.id.eq(2) })
  expect(await ids('v')).toEqual([1])
  expect(JSON.stringify((await db.get('v')).md.view?.where)).toContain('{"col":"upper"}')
})
