import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { udf } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A view carries its base's per-cell errors: a base computed column (onError: 'ignore') that failed on a row shows
// the same errortype and errormsg in the view, and `v.c.x.errortype` filters as `t.c.x.errortype` does. Views
// refused it ("column 'x' has no errortype"): the carried column had no error data columns, so a view showed a failed
// cell as a plain null.

let failOn = new Set([2])
const tenfold = udf({
  name: 'tenfold_or_fail', returns: 'int', params: ['int'],
  fn: (x: number) => {
    if (failOn.has(x)) throw new RangeError(`no tenfold for ${x}`)
    return x * 10
  },
})

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('t', { x: 'int', s: 'string' })
  await t.insert([{ x: 1, s: 'a b' }, { x: 2, s: 'c d' }, { x: 3, s: 'e f' }])
  await t.addComputedColumn('e', tenfold(t.c.x), { onError: 'ignore' })
})
afterAll(async () => { await db.close() })

type Cell = { x: number; e: number | null; et: string | null; em: string | null }
const cells = async (v: Table): Promise<Cell[]> =>
  (await v.orderBy(v.c.x).select({ x: v.c.x, e: v.c.e, et: v.c.e.errortype, em: v.c.e.errormsg }).collect()).toObjects() as Cell[]
const failedCell = (x: number): Cell => ({ x, e: null, et: 'RangeError', em: expect.stringContaining(`no tenfold for ${x}`) as never })

describe('a view shows its base computed column\'s per-cell errors', () => {
  test('made after the failure: the same cells as the base, and errortype filters', async () => {
    const v = await db.createView('v_after', t)
    const want = [{ x: 1, e: 10, et: null, em: null }, failedCell(2), { x: 3, e: 30, et: null, em: null }]
    expect(await cells(t)).toEqual(want)
    expect(await cells(v)).toEqual(want)
    expect(await v.where(v.c.e.errortype.isNotNull()).count()).toBe(1)
    expect(await v.where(v.c.e.errortype.isNull()).count()).toBe(2)
  })

  test('rows inserted later with a failing cell, and a filtered view', async () => {
    const filtered = await db.createView('v_filtered', t, { where: t.c.x.gt(1) })
    failOn = new Set([2, 5])
    await t.insert([{ x: 4, s: 'g' }, { x: 5, s: 'h' }], { onError: 'ignore' })
    expect(await cells(filtered)).toEqual([failedCell(2), { x: 3, e: 30, et: null, em: null }, { x: 4, e: 40, et: null, em: null }, failedCell(5)])
    expect(await cells(await db.getTable('v_after'))).toEqual(await cells(t))
  })

  test('a recompute of the errors (the function fixed) clears them in the view', async () => {
    failOn = new Set()
    await t.recomputeColumns('e', { errorsOnly: true })
    const fixed = [1, 2, 3, 4, 5].map((x) => ({ x, e: x * 10, et: null, em: null }))
    expect(await cells(t)).toEqual(fixed)
    expect(await cells(await db.getTable('v_after'))).toEqual(fixed)
    expect(await cells(await db.getTable('v_filtered'))).toEqual(fixed.slice(1))
    // Reverting the recompute brings the errors back, in the base and in the views that follow it.
    await t.revert()
    expect((await cells(await db.getTable('v_after'))).filter((c) => c.et !== null).map((c) => c.x)).toEqual([2, 5])
    expect(await cells(await db.getTable('v_after'))).toEqual(await cells(t))
  })

  test('a computed column the base adds after the view exists is carried with its errors', async () => {
    const base = await db.createTable('t2', { x: 'int' })
    await base.insert([{ x: 1 }, { x: 2 }, { x: 3 }])
    const v = await db.createView('v2', base)
    failOn = new Set([3])
    await base.addComputedColumn('e', tenfold(base.c.x), { onError: 'ignore' })
    expect(await cells(v)).toEqual([{ x: 1, e: 10, et: null, em: null }, { x: 2, e: 20, et: null, em: null }, failedCell(3)])
  })

  test('an iterator view: every row made from a base row carries its cell error', async () => {
    failOn = new Set([2])
    const base = await db.createTable('t3', { x: 'int', s: 'string' })
    await base.insert([{ x: 1, s: 'One. Two.' }, { x: 2, s: 'Three. Four.' }])
    await base.addComputedColumn('e', tenfold(base.c.x), { onError: 'ignore' })
    const v = await db.createView('v3', base, { iterator: { name: 'string_splitter', input: 's', args: {} } })
    const rows = (await v.orderBy(v.c.x).orderBy(v.c.pos).select({ x: v.c.x, et: v.c.e.errortype }).collect()).toObjects()
    expect(rows.length).toBeGreaterThanOrEqual(4)
    for (const r of rows) expect(r.et).toBe(r.x === 2 ? 'RangeError' : null)
  })

  test('a column without stored errors is still refused by name', async () => {
    const v = await db.getTable('v_after')
    const e = await v.select({ et: v.c.x.errortype }).collect().then(() => undefined, (err: Error) => err)
    expect(e?.message).toContain("column 'x' has no errortype")
  })
})

describe("a carried base computed column recomputed on the view", () => {
  // The base computes it and the view copies its values, so the view cannot recompute it: it said "'e' is not a
  // computed column", which the user had just seen computed (with its errors) in the view.
  test('is refused naming the base that computes it; recomputed there, the view follows', async () => {
    const v = await db.createView('v_recompute', t)
    const e = (await rejection(v.recomputeColumns('e'))) as { code?: string; message: string }
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toBe("'e' of view 'v_recompute' is computed by its base 't' (as 'e'); recompute it there and the view follows")
    failOn = new Set([1])
    await t.recomputeColumns('e')
    expect((await cells(await db.getTable('v_recompute')))[0]).toEqual(failedCell(1))
  })
})
