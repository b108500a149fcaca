import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// An import holds the other writes of its table from its first batch to its end (its rows are one version). Over
// HTTP it read the upload as it arrived, so it lasted as long as the client took to send: a client that sent part of
// a file and then stalled, or trickled a byte at a time, held every insert into that table for as long as it liked.
// The upload is now written to a temporary file first and imported from there once complete.
// Shown without a clock: the upload's last part is sent only once an insert into the same table has finished. Read
// from the request, the import held the table while it waited for that part, and the insert waited for the import.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  await db.createTable('uploads', { id: 'int', s: 'string' })
})
afterAll(async () => { await db.close() })

test('a slow upload does not hold the table: an insert during it finishes before the upload does', async () => {
  let insertDone!: () => void
  const inserted = new Promise<void>((resolve) => (insertDone = resolve))
  let pulls = 0
  let insert: Promise<Response> | undefined
  const chunk = (from: number) => Array.from({ length: 1000 }, (_, i) => `${from + i},row${from + i}\n`).join('')
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      pulls++
      if (pulls <= 3) return c.enqueue(new TextEncoder().encode((pulls === 1 ? 'id,s\n' : '') + chunk((pulls - 1) * 1000)))
      // The server has read 2,000 rows or more (batches of 100): an import reading the request has begun its load.
      insert ??= Promise.resolve(app.request('/api/v1/tables/uploads/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: [{ id: -1, s: 'meanwhile' }] }) }))
      await insert
      insertDone()
      c.enqueue(new TextEncoder().encode(chunk(3000)))
      c.close()
    },
  }, { highWaterMark: 0 })
  const upload = Promise.resolve(app.request('/api/v1/tables/uploads/-/import?format=csv&batchSize=100', { method: 'POST', headers: { 'content-type': 'text/csv' }, body, duplex: 'half' } as RequestInit))
  await inserted
  expect((await insert!).status).toBe(201)
  const res = await upload
  expect(res.status).toBe(201)
  expect(((await res.json()) as { rowsInserted: number }).rowsInserted).toBe(4000)
  const t = await db.getTable('uploads')
  expect(await t.count()).toBe(4001)
  expect((await t.history()).map((h) => h.inserted)).toEqual([4000, 1, 0])
}, 30_000)
