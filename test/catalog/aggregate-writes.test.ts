import { afterAll, beforeAll, expect, test } from 'bun:test'
import { agg, Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// An aggregate where a write picks or computes each row by itself (an update's, delete's or view's where, an update
// value) reached the store, which refused it in its own words: a plain Error ("aggregate functions are not allowed
// in WHERE", Postgres code 42803), an internal error (500) over HTTP. A query's where() refuses it by name; these
// are refused the same way now, before anything runs.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', n: 'int' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, n: 1 }, { id: 2, n: 2 }])
})
afterAll(async () => { await db.close() })

type Failure = { code?: string; message: string }
const refused = async (p: Promise<unknown>): Promise<Failure> => (await rejection(p)) as Failure

test('an update, delete or view whose where aggregates is refused naming it; nothing changes', async () => {
  const before = t.version
  const where = agg.count().gt(0)
  for (const e of [await refused(t.update({ n: 5 }, { where })), await refused(t.delete({ where }))]) {
    expect(e.code).toBe('INVALID_EXPRESSION')
    expect(e.message).toContain('cannot aggregate')
    expect(e.message).toContain('(count() > 0)')
  }
  for (const e of [await refused(db.createView('v', t, { where })), await refused(db.createView('v', t.where(where)))]) {
    expect(e.code).toBe('INVALID_EXPRESSION')
    expect(e.message).toBe("a view's where cannot aggregate (it keeps or drops each base row by itself): (count() > 0)")
  }
  expect(await db.listTables()).not.toContain('v')
  expect(t.version).toBe(before)
})

test('an update value that aggregates is refused naming the column', async () => {
  const e = await refused(t.update({ n: agg.sum(t.c.n) }))
  expect(e.code).toBe('INVALID_ARGUMENT')
  expect(e.message).toStartWith("update, column 'n': a value cannot aggregate")
  expect((await t.orderBy(t.c.id).select('id', 'n').collect()).rows).toEqual([{ id: 1, n: 1 }, { id: 2, n: 2 }])
})
