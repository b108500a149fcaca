import { afterAll, beforeAll, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// The server hands over an upload's bytes as sent: one sent with Content-Encoding: gzip was read as CSV as it was,
// failing on a garbage header. The import decompresses it; an encoding it does not read is refused.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
})
afterAll(async () => { await db.close() })

const upload = (table: string, body: Uint8Array | string, encoding?: string, format = 'csv') =>
  app.request(`/api/v1/tables/${table}/-/import?format=${format}`, { method: 'POST', body: body as BodyInit, headers: encoding ? { 'content-encoding': encoding } : {} })

test('a gzip-encoded upload is decompressed as it arrives (CSV and Parquet)', async () => {
  const r = await upload('gz', gzipSync('id,name\n1,ann\n2,bob\n'), 'gzip')
  expect(r.status).toBe(201)
  expect(((await r.json()) as { rowsInserted: number }).rowsInserted).toBe(2)
  const pq = await app.request('/api/v1/export?format=parquet', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'gz' }) })
  const p = await upload('gz_pq', gzipSync(new Uint8Array(await pq.arrayBuffer())), 'gzip', 'parquet')
  expect(p.status).toBe(201)
})

test('an upload that is not gzip though it says so, and an encoding not read, are 400s naming it', async () => {
  const r = await upload('not_gz', 'id\n1\n', 'gzip')
  expect(r.status).toBe(400)
  expect(((await r.json()) as { error: { message: string } }).error.message).toContain('not readable gzip')
  const b = await upload('br', 'id\n1\n', 'br')
  expect(b.status).toBe(400)
  expect(((await b.json()) as { error: { message: string } }).error.message).toContain(`Content-Encoding 'br' is not read`)
  expect(await db.getTable('not_gz').then(() => true, () => false)).toBe(false)
})
