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

test('an import reads at most --max-import-bytes, counted after decompression: a gzip bomb is a 413 and writes nothing', async () => {
  const capped = createApp(db, { limits: { maxImportBytes: 1_000_000 } })
  const send = (table: string, body: Uint8Array | string, encoding?: string, format = 'csv') =>
    capped.request(`/api/v1/tables/${table}/-/import?format=${format}`, { method: 'POST', body: body as BodyInit, headers: encoding ? { 'content-encoding': encoding } : {} })
  // 4 MB of CSV in ~4 kB of gzip: under the limit as sent, four times over it once decompressed.
  const csv = 'id,name\n' + Array.from({ length: 200_000 }, (_, i) => `${i % 10},aaaaaaaaaa`).join('\n')
  const bomb = gzipSync(csv, { level: 9 })
  expect(bomb.byteLength).toBeLessThan(100_000)
  const r = await send('bomb', bomb, 'gzip')
  expect(r.status).toBe(413)
  const err = ((await r.json()) as { error: { code: string; message: string } }).error
  expect(err.code).toBe('TOO_LARGE')
  expect(err.message).toContain('more than 1000000 bytes once decompressed (limit)')
  expect(await db.getTable('bomb').then(() => true, () => false)).toBe(false)
  // Into an existing table: its rows stay as they were.
  await db.createTable('kept', { id: 'int', name: 'string' })
  await (await db.getTable('kept')).insert([{ id: 1, name: 'x' }])
  expect((await send('kept', bomb, 'gzip')).status).toBe(413)
  expect((await (await db.getTable('kept')).count())).toBe(1)
  // Parquet is spooled to a file before its footer is read: the spool stops at the limit too.
  const parquet = await app.request('/api/v1/export?format=parquet', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'gz' }) })
  const pqBytes = new Uint8Array(await parquet.arrayBuffer())
  const tiny = createApp(db, { limits: { maxImportBytes: pqBytes.byteLength - 1 } })
  const pq = await tiny.request('/api/v1/tables/bomb_pq/-/import?format=parquet', { method: 'POST', body: gzipSync(pqBytes), headers: { 'content-encoding': 'gzip' } })
  expect(pq.status).toBe(413)
  // The same bytes sent as they are: over the limit too (counted as read), under it imported whole.
  const plain = await send('plain', csv)
  expect(plain.status).toBe(413)
  expect(((await plain.json()) as { error: { message: string } }).error.message).toContain('more than 1000000 bytes (limit)')
  const small = await send('plain', csv.slice(0, 500_000).replace(/\n[^\n]*$/, ''), 'identity')
  expect(small.status).toBe(201)
  expect(await db.getTable('bomb_pq').then(() => true, () => false)).toBe(false)
})

test('an upload that never ends is refused once it passes --max-import-bytes (the spool stops there)', async () => {
  const capped = createApp(db, { limits: { maxImportBytes: 1_000_000 } })
  let sent = 0
  const row = new TextEncoder().encode('1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n'.repeat(1000))
  const endless = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(new TextEncoder().encode('id,name\n')),
    pull: (c) => { sent += row.byteLength; c.enqueue(row) },
  })
  const r = await capped.request('/api/v1/tables/endless/-/import?format=csv', { method: 'POST', body: endless, duplex: 'half' } as RequestInit)
  expect(r.status).toBe(413)
  expect(((await r.json()) as { error: { message: string } }).error.message).toContain('more than 1000000 bytes (limit)')
  expect(sent).toBeLessThan(2_000_000)
  expect(await db.getTable('endless').then(() => true, () => false)).toBe(false)
})
