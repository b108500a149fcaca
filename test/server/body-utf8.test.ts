import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A JSON request body whose bytes are not UTF-8 (a Latin-1 'é', 0xE9, from a client that encoded its text wrongly)
// was decoded leniently: each bad byte became U+FFFD and the row was stored with it, 201, though it differed from
// what was sent (an import of the same bytes is refused). Small bodies (read whole) and big or unsized ones (read in
// slices) alike are now a 400 naming the byte, and nothing is written.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  await db.createTable('texts', { id: 'int', s: 'string' })
})
afterAll(async () => { await db.close() })

const enc = new TextEncoder()
const latin1Row = (id: number) => new Uint8Array([...enc.encode(`{"rows": [{"id": ${id}, "s": "caf`), 0xe9, ...enc.encode('"}]}')])

const insert = async (body: BodyInit) => {
  const res = await app.request('/api/v1/tables/texts/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit)
  return { status: res.status, body: await res.json() as { error?: { code: string; message: string } } }
}

/** A body sent in pieces without a length: the request layer reads it in slices. */
const unsized = (parts: Uint8Array[]) => {
  let i = 0
  return new ReadableStream<Uint8Array>({ pull: (c) => (i < parts.length ? c.enqueue(parts[i++]!) : c.close()) })
}

test('a body that is not UTF-8 is a 400 naming the byte, read whole or in slices; nothing is written', async () => {
  const small = await insert(latin1Row(1))
  expect([small.status, small.body.error?.code]).toEqual([400, 'INVALID_ARGUMENT'])
  expect(small.body.error?.message).toBe('request body is not valid UTF-8 at byte 29 (0xE9): send JSON as UTF-8 text; nothing was done')
  const sliced = await insert(unsized([enc.encode(' '.repeat(300_000)), latin1Row(2)]))
  expect([sliced.status, sliced.body.error?.code]).toEqual([400, 'INVALID_ARGUMENT'])
  expect(sliced.body.error?.message).toBe('request body is not valid UTF-8 at byte 300029 (0xE9): send JSON as UTF-8 text; nothing was done')
  expect(await (await db.getTable('texts')).count()).toBe(0)
})

test('UTF-8 text, a character split between two pieces included, is stored as sent', async () => {
  const bytes = enc.encode('{"rows": [{"id": 3, "s": "café €"}]}')
  const at = bytes.indexOf(0xc3) + 1 // inside 'é'
  expect((await insert(unsized([bytes.subarray(0, at), bytes.subarray(at), enc.encode(' '.repeat(300_000))]))).status).toBe(201)
  expect((await insert(enc.encode('{"rows": [{"id": 4, "s": "café €"}]}'))).status).toBe(201)
  const t = await db.getTable('texts')
  expect((await t.select('s').orderBy(t.c.id).collect()).rows).toEqual([{ s: 'café €' }, { s: 'café €' }])
})
