import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A where that fails on a row at run time (a cast of 'abc' to int) is the client's mistake: 400 INVALID_EXPRESSION
// naming the expression, for an update, a delete and a view as for a query. These answered 500 (the store's raw error).

describe('a failing filter over HTTP', () => {
  let db: Tessera
  let app: ReturnType<typeof createApp>
  let where: unknown
  beforeAll(async () => {
    db = await memoryDb()
    app = createApp(db)
    const t = await db.createTable('fe', { id: 'int', s: 'string' })
    await t.insert([{ id: 1, s: 'abc' }])
    where = JSON.parse(JSON.stringify(t.c.s.astype('int').gt(0)))
  })
  afterAll(async () => { await db.close() })

  const call = async (method: string, path: string, body: unknown) => {
    const res = await app.fetch(new Request(`http://127.0.0.1/api/v1${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))
    return { status: res.status, body: await res.json() as { error?: { code?: string; message?: string } } }
  }

  test('update (PATCH rows), delete and createView: 400 INVALID_EXPRESSION; the view is not created', async () => {
    for (const [method, path, body] of [
      ['PATCH', '/tables/fe/-/rows', { values: { s: 'x' }, where }],
      ['POST', '/tables/fe/-/delete', { where }],
      ['POST', '/views', { path: 'fe_view', base: 'fe', where }],
    ] as const) {
      const r = await call(method, path, body)
      expect([path, r.status, r.body.error?.code]).toEqual([path, 400, 'INVALID_EXPRESSION'])
      expect(r.body.error?.message).toContain('cannot cast "abc" to int')
    }
    const get = await app.fetch(new Request('http://127.0.0.1/api/v1/tables/fe_view'))
    expect(get.status).toBe(404)
    expect(await (await db.getTable('fe')).count()).toBe(1)
  })
})
