import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { agg } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// count() is the number of rows collect() returns. An aggregate select without group_by is one row, whatever it
// aggregates; count() counted the rows it aggregates (3, or 0 under a filter matching none).

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
  const t = await db.createTable('c', { id: 'int', x: 'float' })
  await t.insert([{ id: 1, x: 1 }, { id: 2, x: 2 }, { id: 3, x: 3 }])
})
afterAll(async () => {
  await db.close()
})

test('count() of an aggregate select is its one row, in the library and over HTTP', async () => {
  const t = await db.getTable('c')
  for (const q of [
    t.select({ n: agg.count() }),
    t.where(t.c.id.lt(0)).select({ n: agg.count(), s: agg.sum(t.c.x) }),
    t.select({ top: agg.max(t.c.x).add(1) }),
    t.groupBy(t.c.id.gt(1)).select({ big: t.c.id.gt(1), n: agg.count() }),
    t.select({ n: agg.count() }).limit(0),
  ]) {
    expect({ q: JSON.stringify(q.toJSON()), count: await q.count() }).toEqual({ q: JSON.stringify(q.toJSON()), count: (await q.collect()).rows.length })
  }
  const app = createApp(db)
  const post = async (body: unknown) => (await app.request('/api/v1/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>
  const body = { table: 'c', select: [{ name: 'n', expr: { fn: 'count', args: [] } }] }
  expect(await post({ ...body, count: true })).toEqual({ count: 1 })
  expect(((await post(body)) as { rows: unknown[] }).rows).toEqual([{ n: 3 }])
})
