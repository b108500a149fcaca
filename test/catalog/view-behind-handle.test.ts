import { afterAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A view that could not follow its base (its own computed column aborts on a new base row) is reported when it is
// opened (getTable retries the sync and fails with why); a handle taken before went on answering the old rows
// without a word. Its reads now try to follow too, and fail with the same reason while it still cannot.

let db: Tessera | undefined
afterAll(() => db?.close())

test('a handle of a view left behind retries the sync on read, and fails with the reason while it cannot follow', async () => {
  db = await Tessera.open({ home: tempDir() })
  const t = await db.createTable('nums', { id: 'int', s: 'string' })
  await t.insert([{ id: 1, s: '10' }])
  const v = await db.createView('nums_v', t)
  await v.addComputedColumn('n', v.c.s.astype('int'))
  expect((await v.select('id', 'n').collect()).rows).toEqual([{ id: 1, n: 10 }])

  await t.insert([{ id: 2, s: 'abc' }]) // the base takes it; the view cannot follow
  const opened = (await rejection(db.getTable('nums_v'))) as Error
  const read = (await rejection(v.select('id', 'n').collect())) as Error
  expect(read.message).toBe(opened.message)
  expect(read.message).toContain('abc')
  expect((await rejection(v.count())) as Error).toBeInstanceOf(Error)

  // Once the base no longer holds the row, the same handle's read follows and answers.
  await t.delete({ where: t.c.id.eq(2) })
  await t.insert([{ id: 3, s: '30' }])
  expect((await v.select('id', 'n').orderBy(v.c.id).collect()).rows).toEqual([{ id: 1, n: 10 }, { id: 3, n: 30 }])
})
