import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'

// PATCH /rows with a binary value in the form inserts take and answers give (base64 text) stores the bytes; it
// answered 500 INTERNAL ('Invalid input for bytea type') while inserts and batch-update of the same value worked.

let db: Tessera
let call: ReturnType<typeof jsonCaller>
beforeAll(async () => {
  db = await memoryDb()
  call = jsonCaller(createApp(db))
})
afterAll(async () => {
  await db.close()
})

describe('PATCH /rows of a binary column', () => {
  for (const type of ['binary', 'binary?']) {
    test(`${type}: base64 text is stored as bytes and reads back equal`, async () => {
      const path = `ub_${type === 'binary' ? 'plain' : 'nullable'}`
      expect((await call('POST', '/api/v1/tables', { path, schema: { id: 'int', b: type }, primaryKey: 'id' })).status).toBe(201)
      expect((await call('POST', `/api/v1/tables/${path}/-/rows`, { rows: [{ id: 1, b: 'AAEC' }, { id: 2, b: 'AAEC' }] })).status).toBe(201)
      const r = await call('PATCH', `/api/v1/tables/${path}/-/rows`, { values: { b: 'AQID/w==' }, where: { fn: 'eq', args: [{ col: 'id' }, { lit: 1 }] } })
      expect(r.status).toBe(200)
      expect(r.body.numUpdated).toBe(1)
      const q = await call('POST', '/api/v1/query', { table: path, orderBy: [{ expr: { col: 'id' } }] })
      expect(q.status).toBe(200)
      expect(q.body.rows).toEqual([{ id: 1, b: 'AQID/w==' }, { id: 2, b: 'AAEC' }])
      // Text that is not base64 is the caller's mistake: 400, not 500.
      const bad = await call('PATCH', `/api/v1/tables/${path}/-/rows`, { values: { b: 'not base64!' } })
      expect(bad.status).toBe(400)
    })
  }
})
