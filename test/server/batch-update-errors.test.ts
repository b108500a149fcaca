import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A SQL-computed column failing on a batch update's values answers as a failing update does: 422 COMPUTATION_FAILED
// naming the column and its expression. It answered 400 INVALID_ARGUMENT 'bad value' (the store's raw error).

describe('a failing computed column over HTTP', () => {
  let db: Tessera
  let app: ReturnType<typeof createApp>
  beforeAll(async () => {
    db = await memoryDb()
    app = createApp(db)
    const t = await db.createTable('bu', { id: 'int', s: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, s: '5' }])
    await t.addComputedColumn('n', t.c.s.astype('int'))
  })
  afterAll(async () => { await db.close() })

  const call = async (method: string, path: string, body: unknown) => {
    const res = await app.fetch(new Request(`http://127.0.0.1/api/v1${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))
    return { status: res.status, body: await res.json() as { error?: { code?: string; message?: string } } }
  }

  test('PATCH rows and batch-update: the same status, code and message', async () => {
    const update = await call('PATCH', '/tables/bu/-/rows', { values: { s: 'abc' } })
    const batch = await call('POST', '/tables/bu/-/batch-update', { rows: [{ id: 1, s: 'abc' }] })
    expect([update.status, update.body.error?.code]).toEqual([422, 'COMPUTATION_FAILED'])
    expect([batch.status, batch.body.error?.code]).toEqual([422, 'COMPUTATION_FAILED'])
    expect(batch.body.error?.message).toBe(update.body.error?.message)
    expect(batch.body.error?.message).toContain("computed column 'n' of 'bu'")
    expect(await (await db.getTable('bu')).count()).toBe(1)
  })
})
