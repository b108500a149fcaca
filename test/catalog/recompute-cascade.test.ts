import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// Cascades reach computed columns through other computed columns: a column recomputed by name (recomputeColumns)
// brings its dependents with it, as an update of an input column does (src/catalog/computed.ts dependentPlans).

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

const chain = async (name: string, options: { stored?: boolean } = {}) => {
  const t = await db.createTable(name, { id: 'int', a: 'string' })
  await t.insert([{ id: 1, a: 'y' }, { id: 2, a: 'x' }])
  await t.addComputedColumn('up', t.c.a.upper(), options)
  await t.addComputedColumn('up2', t.c.up.len())
  await t.addComputedColumn('up3', t.c.up2.mul(10))
  return t
}

test('recomputeColumns cascades to the columns computed from the recomputed one, transitively', async () => {
  const t = await chain('rc_chain')
  await t.update({ a: 'zzz' }, { where: t.c.id.eq(1), cascade: false })
  expect((await t.orderBy(t.c.id).select('up', 'up2', 'up3').collect()).rows).toEqual([{ up: 'Y', up2: 1, up3: 10 }, { up: 'X', up2: 1, up3: 10 }])

  const st = await t.recomputeColumns('up', { where: t.c.id.eq(1) })
  expect([...st.updatedCols].sort()).toEqual(['up', 'up2', 'up3'])
  expect((await t.orderBy(t.c.id).select('up', 'up2', 'up3').collect()).rows).toEqual([{ up: 'ZZZ', up2: 3, up3: 30 }, { up: 'X', up2: 1, up3: 10 }])
})

test('recomputeColumns with cascade: false recomputes the named columns only', async () => {
  const t = await chain('rc_nocascade')
  await t.update({ a: 'zzz' }, { where: t.c.id.eq(1), cascade: false })
  const st = await t.recomputeColumns('up', { where: t.c.id.eq(1), cascade: false })
  expect(st.updatedCols).toEqual(['up'])
  expect((await t.where(t.c.id.eq(1)).select('up', 'up2').collect()).rows).toEqual([{ up: 'ZZZ', up2: 1 }])
})

test('after a rename of the input, recompute still cascades', async () => {
  const t = await chain('rc_renamed')
  await t.renameColumn('a', 'aa')
  await t.update({ aa: 'zzz' }, { where: t.c.id.eq(1), cascade: false })
  await t.recomputeColumns('up')
  expect((await t.where(t.c.id.eq(1)).select('up', 'up2', 'up3').collect()).rows).toEqual([{ up: 'ZZZ', up2: 3, up3: 30 }])
})

test('an update cascades through computed columns, stored or not', async () => {
  for (const stored of [true, false]) {
    const t = await chain(`rc_update_${stored}`, { stored })
    const st = await t.update({ a: 'abcd' }, { where: t.c.id.eq(2) })
    expect(st.updatedCols).toContain('up3')
    expect((await t.where(t.c.id.eq(2)).select('up', 'up2', 'up3').collect()).rows).toEqual([{ up: 'ABCD', up2: 4, up3: 40 }])
  }
})
