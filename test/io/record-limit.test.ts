import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Table, Tessera, TesseraError } from '../../src/index.ts'
import { importData } from '../../src/index.ts'
import { bodyInput } from '../../src/io/import/bytes.ts'
import { csvSource } from '../../src/io/import/csv.ts'
import { MAX_RECORD_CHARS } from '../../src/io/import/record-limit.ts'
import { runImport } from '../../src/io/import/run.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A record whose end never comes (an unclosed quote in a streamed upload) fails the import once it is past the
// record limit, not at the end of the input: a 4xx naming the line the record starts on, read no further, and
// nothing written, however many batches were already staged. Reading errors before the first batch are 4xx too.

let db: Tessera
let people: Table
beforeAll(async () => {
  db = await memoryDb()
  people = await db.createTable('people', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await people.insert([{ id: 1, name: 'one' }, { id: 2, name: 'two' }])
})
afterAll(async () => {
  await db.close()
})

const CHUNK = 64 * 1024
const enc = new TextEncoder()

/**
 * An upload that starts with `head` and then sends `fill` in 64 KiB chunks, made as they are read, up to `cap`
 * characters (far past the limit: reading stops long before unless the limit is missing). `sent()`: characters read.
 */
function endless(head: string, fill: string, cap = MAX_RECORD_CHARS + (8 << 20)) {
  const piece = enc.encode(fill.repeat(CHUNK / fill.length))
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent === 0) {
        sent += head.length
        c.enqueue(enc.encode(head))
      } else if (sent >= cap) c.close()
      else {
        sent += piece.length
        c.enqueue(piece)
      }
    },
  }, { highWaterMark: 0 })
  return { body, sent: () => sent }
}

const failure = async (p: Promise<unknown>): Promise<TesseraError> => (await rejection(p)) as TesseraError

async function snapshot() {
  return { version: people.version, rows: (await people.orderBy('id').collect()).rows, history: (await people.history()).length }
}

test('an unclosed quote in a streamed CSV fails at the limit: line 2 named, the upload read no further, no table created', async () => {
  const upload = endless('id,text\n1,"', 'a')
  const e = await failure(importData(db, 'fresh', upload.body, { format: 'csv' }))
  expect(e.code).toBe('INVALID_ROW')
  expect(e.status).toBe(400)
  expect(e.message).toBe(`upload, line 2: the record starting on line 2 is longer than ${MAX_RECORD_CHARS} characters (the limit for one record); it is still inside the quoted field opened on line 2, so an unclosed quote (") is the likely cause; nothing was imported`)
  expect(e.details).toEqual({ file: 'upload', line: 2, limit: MAX_RECORD_CHARS })
  expect(upload.sent()).toBeLessThan(MAX_RECORD_CHARS + 4 * CHUNK)
  expect((await failure(db.getTable('fresh'))).code).toBe('TABLE_NOT_FOUND')
}, 60_000)

test('a JSON Lines line past the limit fails the same way', async () => {
  const upload = endless('{"id": 1, "name": "a"}\n{"id": 2, "name": "', 'b')
  const e = await failure(importData(db, 'people', upload.body, { format: 'jsonl' }))
  expect(e.code).toBe('INVALID_ROW')
  expect(e.message).toBe(`upload, line 2: line 2 is longer than ${MAX_RECORD_CHARS} characters (the limit for one record); nothing was imported`)
  expect(upload.sent()).toBeLessThan(MAX_RECORD_CHARS + 4 * CHUNK)
}, 60_000)

test('past staged batches, in abort and in skip mode: the table keeps its version, rows and history', async () => {
  const before = await snapshot()
  const good = Array.from({ length: 3000 }, (_, i) => `${100 + i},name ${i}\n`).join('')
  for (const onBadRow of ['abort', 'skip'] as const) {
    const upload = endless(`id,name\n${good}3100,"`, 'c', 1 << 20)
    const source = await csvSource(bodyInput(upload.body, 'people.csv'), { maxRecordChars: 4096, skipBad: onBadRow === 'skip' })
    let staged = 0
    const e = await failure(runImport(db, 'people', source, { batchSize: 500, sampleSize: 10, onBadRow, onProgress: (p) => void (staged = p.rowsInserted) }))
    expect(staged).toBeGreaterThan(0) // batches had gone to the store before the failure
    expect(e.code).toBe('INVALID_ROW')
    expect(e.message).toContain('people.csv, line 3002: the record starting on line 3002 is longer than 4096 characters')
    expect(e.message).toContain(`nothing was imported ('people' is unchanged, at version ${before.version})`)
    expect(upload.sent()).toBeLessThan(good.length + 4 * CHUNK)
    expect(await snapshot()).toEqual(before)
  }
}, 60_000)

test('over HTTP: a 400 naming the line, soon, not a 500 or a wait for the end of the upload; an upload that breaks off is a 4xx too', async () => {
  const app = createApp(db)
  const upload = endless('id,text\n1,"', 'a')
  const r = await app.request('/api/v1/tables/http_fresh/-/import?format=csv', { method: 'POST', body: upload.body })
  expect(r.status).toBe(400)
  const body = (await r.json()) as { error: { code: string; message: string; details: Record<string, unknown> } }
  expect(body.error.code).toBe('INVALID_ROW')
  expect(body.error.message).toContain('line 2: the record starting on line 2 is longer than')
  expect(body.error.message).toContain('an unclosed quote (") is the likely cause')
  expect(body.error.details).toMatchObject({ line: 2, limit: MAX_RECORD_CHARS })
  expect(upload.sent()).toBeLessThan(MAX_RECORD_CHARS + 4 * CHUNK)
  expect((await app.request('/api/v1/tables/http_fresh')).status).toBe(404)

  // The client goes away while the first records are read (before any batch): the reader's AbortError was
  // thrown past the import's error handling and answered as a server bug (500).
  let n = 0
  const cut = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ === 0) c.enqueue(enc.encode('id,name\n1,a\n'))
      else c.error(new DOMException('The operation was aborted.', 'AbortError'))
    },
  })
  const aborted = await app.request('/api/v1/tables/http_cut/-/import?format=csv', { method: 'POST', body: cut })
  expect(aborted.status).toBe(400)
  expect(((await aborted.json()) as { error: { message: string } }).error.message).toContain('nothing was imported')
}, 60_000)
