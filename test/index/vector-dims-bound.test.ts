import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// An index and the HTTP query vector share one bound on dimensions: 16,000, pgvector's `vector` type's. A longer
// column was indexed while empty (every row written after was refused by the cast) and HTTP refused its query vector.

setDefaultTimeout(60_000)

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(() => db.close())

test('an index over vectors longer than 16,000 dimensions is refused by name, empty table or not', async () => {
  const t = await db.createTable('wide', { id: 'int', emb: 'array<float32>[20000]' })
  const e = await t.addEmbeddingIndex('emb', {}).then(() => undefined, (err) => err)
  expect(e).toBeInstanceOf(TesseraError)
  expect((e as TesseraError).code).toBe('INVALID_ARGUMENT')
  expect((e as Error).message).toMatch(/addEmbeddingIndex\('emb'\): vectors of 20000 dimensions; an index takes at most 16000/)
  expect(t.listIndexes()).toEqual([])
})

test('an index at the bound is searched over HTTP with a query vector of its dimensions', async () => {
  const D = 16_000
  const t = await db.createTable('widest', { id: 'int', emb: `array<float32>[${D}]` })
  const v = Array.from({ length: D }, (_, i) => ((i % 5) + 1) / 5)
  await t.insert([{ id: 1, emb: v }])
  await t.addEmbeddingIndex('emb', {})
  const app = createApp(db)
  const search = (vector: number[]) => app.request('/api/v1/tables/widest/-/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ column: 'emb', vector, k: 1 }) })
  const ok = await search(v)
  expect(ok.status).toBe(200)
  expect(((await ok.json()) as { rows: { id: number }[] }).rows.map((r) => r.id)).toEqual([1])
  const tooLong = await search([...v, 1])
  expect(tooLong.status).toBe(400)
})

test('an index over a vector column takes no options at all (every knob has its default)', async () => {
  const t = await db.createTable('plain_vectors', { id: 'int', emb: 'array<float32>[4]' })
  await t.insert([{ id: 1, emb: [1, 0, 0, 0] }, { id: 2, emb: [0, 1, 0, 0] }])
  // Without the options object it failed with "undefined is not an object (evaluating 'options.metric')".
  await t.addEmbeddingIndex('emb')
  expect(t.listIndexes().map((i) => i.column)).toEqual(['emb'])
})
