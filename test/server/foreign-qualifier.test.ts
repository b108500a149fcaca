import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// An expression over one table (an update's values and where, a delete's, a computed column, a job, a recompute's
// where, a view's where over its base) resolved column names against that table alone and dropped the qualifier: a
// column qualified with another table, {"col": "s", "tbl": "user_2/t"}, read the table's own 's'. An update meant to
// filter on another table changed the rows whose own 's' matched, and a computed column "copying" another tenant's
// column copied the table's own. A query refuses a table it does not read; these are refused the same way now.

let db: Tessera
let app: ReturnType<typeof createApp>
let owner = ''

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  owner = await tokens.create('owner', { scopes: [{ prefix: 'user_1', access: 'write' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
  await db.createDir('user_1')
  await db.createDir('user_2')
  const mine = await db.createTable('user_1/t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await mine.insert([{ id: 1, s: 'same' }, { id: 2, s: 'other' }])
  await mine.addComputedColumn('up', mine.c.s.upper())
  const theirs = await db.createTable('user_2/t', { id: 'int', s: 'string' })
  await theirs.insert([{ id: 1, s: 'same' }])
})
afterAll(async () => { await db.close() })

const call = async (method: string, path: string, body: unknown) => {
  const res = await app.fetch(new Request(`http://127.0.0.1/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  }))
  return { status: res.status, body: await res.json() as { error?: { code?: string; message?: string } } }
}

const foreign = { col: 's', tbl: 'user_2/t' }
const matches = { fn: 'eq', args: [foreign, { lit: 'same' }] }

test('a column of another table in a one-table expression is a 400 naming it, and nothing is written', async () => {
  const before = await (await db.getTable('user_1/t')).version
  for (const [method, path, body] of [
    ['PATCH', '/tables/user_1/t/-/rows', { values: { s: 'changed' }, where: matches }],
    ['PATCH', '/tables/user_1/t/-/rows', { values: { s: foreign } }],
    ['POST', '/tables/user_1/t/-/delete', { where: matches }],
    ['POST', '/tables/user_1/t/-/columns', { name: 'copy', expr: foreign }],
    ['POST', '/tables/user_1/t/-/recompute', { columns: 'up', where: matches }],
    ['POST', '/jobs', { table: 'user_1/t', column: 'copy', expr: foreign }],
    ['POST', '/views', { path: 'user_1/v', base: 'user_1/t', where: matches }],
  ] as const) {
    const r = await call(method, path, body)
    expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 400, 'INVALID_EXPRESSION'])
    expect(r.body.error?.message).toContain("table 'user_2/t' is not part of this expression")
  }
  const t = await db.getTable('user_1/t')
  expect(t.version).toBe(before)
  expect(Object.keys(t.schema())).toEqual(['id', 's', 'up'])
  expect((await t.select('id', 's').orderBy(t.c.id).collect()).rows).toEqual([{ id: 1, s: 'same' }, { id: 2, s: 'other' }])
  expect(await db.listTables('user_1')).toEqual(['user_1/t'])
})

test("the table's own qualifier (its path or its last part) still reads its own column", async () => {
  for (const tbl of ['user_1/t', 't']) {
    const r = await call('PATCH', '/tables/user_1/t/-/rows', { values: { s: { fn: 'upper', args: [{ col: 's', tbl }] } }, where: { fn: 'eq', args: [{ col: 'id', tbl }, { lit: 2 }] } })
    expect([tbl, r.status]).toEqual([tbl, 200])
  }
  const t = await db.getTable('user_1/t')
  expect((await t.select('id', 's').orderBy(t.c.id).collect()).rows).toEqual([{ id: 1, s: 'same' }, { id: 2, s: 'OTHER' }])
})

test('the library refuses another table\'s column the same way', async () => {
  const mine = await db.getTable('user_1/t')
  const theirs = await db.getTable('user_2/t')
  const e = await rejection(mine.update({ s: 'x' }, { where: theirs.c.s.eq('same') })) as { code?: string; message?: string }
  expect([e.code, e.message]).toEqual(['INVALID_EXPRESSION', "table 'user_2/t' is not part of this expression (in user_2/t.s): it reads the columns of 'user_1/t' only"])
  expect(await mine.where(mine.c.s.eq('x')).count()).toBe(0)
})

test("a view's expressions may name its bases' columns through their handles (it carries them); another table's are refused", async () => {
  const mine = await db.getTable('user_1/t')
  const theirs = await db.getTable('user_2/t')
  const view = await db.createView('user_1/v', mine, { where: mine.c.id.ge(1) })
  // A view of the view, filtered and computed through the first table's handle.
  const deeper = await db.createView('user_1/vv', view, { where: mine.c.id.eq(2) })
  await deeper.addComputedColumn('low', mine.c.s.lower())
  expect((await deeper.select('id', 'low').collect()).rows).toEqual([{ id: 2, low: 'other' }])
  const e = await rejection(view.addComputedColumn('theirs', theirs.c.s.lower())) as { code?: string; message?: string }
  expect(e.code).toBe('INVALID_EXPRESSION')
  expect(e.message).toBe("table 'user_2/t' is not part of this expression (in user_2/t.s): it reads the columns of 'user_1/v' only (and those its bases 'user_1/t' give it)")
})
