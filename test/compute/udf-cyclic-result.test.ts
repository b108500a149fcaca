import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera, udf } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A UDF answer that is not of its column's type is that cell's error ("f(x) returned …, not json?: …"). Writing the
// answer into that message with JSON.stringify threw for an object that refers to itself, so instead of one failed
// cell the whole write failed with an internal TypeError ("JSON.stringify cannot serialize cyclic structures"),
// under onError: 'ignore' too.

const looped = udf({
  name: 'looped', returns: 'json', params: ['int'],
  fn: (x: number) => {
    const o: Record<string, unknown> = { x }
    if (x === 2) o.self = o
    return o
  },
})

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int' }, { primaryKey: 'id' })
  await t.insert([{ id: 1 }, { id: 2 }, { id: 3 }])
})
afterAll(async () => { await db.close() })

test("onError 'ignore': the cyclic answer is its row's error; the other rows keep their values", async () => {
  const status = await t.addComputedColumn('j', looped(t.c.id), { onError: 'ignore' })
  expect([status.numExcs, status.colsWithExcs]).toEqual([1, ['j']])
  const rows = (await t.orderBy(t.c.id).select({ id: t.c.id, j: t.c.j, et: t.c.j.errortype, em: t.c.j.errormsg }).collect()).rows
  expect(rows.map((r) => [r.id, r.j, r.et])).toEqual([[1, { x: 1 }, null], [2, null, 'TypeError'], [3, { x: 3 }, null]])
  expect(rows[1]!.em).toStartWith('looped(id) returned a value JSON cannot write (')
})

test("onError 'abort': COMPUTATION_FAILED naming the row and the column, not an internal error", async () => {
  const e = (await rejection(t.addComputedColumn('j2', looped(t.c.id)))) as { code?: string; message: string }
  expect(e.code).toBe('COMPUTATION_FAILED')
  expect(e.message).toStartWith("the row with primary key [2], computed column 'j2' of 't': TypeError: looped(id) returned a value JSON cannot write")
})
