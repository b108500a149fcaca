import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { lexicalEmbed } from '../../src/inference/lexical.ts'
import type { LexicalOptions } from '../../src/inference/lexical.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// POST …/-/search by vector: an index over a column of vectors is searched with one (its error said so, and the
// route refused the field), and any index takes a vector of its dimensions. A past version searched before its
// index existed names the version, not the current table.

let db: Tessera
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  const items = await db.createTable('items', { id: 'int', emb: 'array<float32>[3]' })
  await items.insert([
    { id: 1, emb: [1, 0, 0] }, { id: 2, emb: [0, 1, 0] }, { id: 3, emb: [0.9, 0.1, 0] }, { id: 4, emb: [0, 0, 1] },
  ])
  await items.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
})
afterAll(async () => {
  await db.close()
})

const search = async (path: string, body: unknown) => {
  const r = await app.request(`/api/v1/tables/${path}/-/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: r.status, body: (await r.json()) as { rows: { id: number; score: number }[]; error?: { code: string; message: string } } }
}

test('a vector column is searched by vector over HTTP, with a where, exact or not', async () => {
  for (const exact of [false, true]) {
    const r = await search('items', { column: 'emb', vector: [1, 0.05, 0], k: 2, exact })
    expect(r.status).toBe(200)
    expect(r.body.rows.map((x) => x.id)).toEqual([1, 3])
    expect(r.body.rows[0]!.score).toBeCloseTo(0.99875, 4)
  }
  const filtered = await search('items', { column: 'emb', vector: [1, 0, 0], k: 2, where: { fn: 'gt', args: [{ col: 'id' }, { lit: 1 }] } })
  expect(filtered.body.rows.map((x) => x.id)).toEqual([3, 2])
})

test('text on a vector column names what to send, and what it names is taken', async () => {
  const text = await search('items', { column: 'emb', text: 'hello' })
  expect(text.status).toBe(400)
  expect(text.body.error!.message).toContain('needs a vector')
  const wrong = await search('items', { column: 'emb', vector: [1, 0] })
  expect(wrong.status).toBe(400)
  expect(wrong.body.error!.message).toContain('must have 3 numbers')
})

test('exactly one of text, image or vector; hybrid takes text only', async () => {
  const none = await search('items', { column: 'emb' })
  expect(none.status).toBe(400)
  expect(none.body.error!.message).toBe('give exactly one of text, image or vector to search by')
  const two = await search('items', { column: 'emb', text: 'a', vector: [1, 0, 0] })
  expect(two.body.error!.message).toBe('give exactly one of text, image or vector to search by, not text and vector')
  const hybrid = await search('items', { column: 'emb', vector: [1, 0, 0], hybrid: true })
  expect(hybrid.status).toBe(400)
  expect(hybrid.body.error!.message).toBe('hybrid search takes a text query, not a vector')
  const notNumbers = await search('items', { column: 'emb', vector: ['1', 0, 0] })
  expect(notNumbers.status).toBe(400)
  const huge = await search('items', { column: 'emb', vector: Array.from({ length: 16_001 }, () => 0) })
  expect(huge.status).toBe(400)
})

test('a text index takes a vector of its dimensions too', async () => {
  const docs = await db.createTable('docs', { id: 'int', text: 'string' })
  await docs.insert([{ id: 1, text: 'volcanoes erupt lava' }, { id: 2, text: 'bond markets fell' }])
  await docs.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
  const lexical = embedders.lexical()
  const [lava] = await lexicalEmbed(['lava'], lexical.opts as LexicalOptions)
  const r = await search('docs', { column: 'text', vector: Array.from(lava!), k: 1 })
  expect(r.status).toBe(200)
  expect(r.body.rows[0]!.id).toBe(1)
})

test('a version before the index was added: the error names the version and says to search the current table', async () => {
  const t = await db.createTable('late', { id: 'int', emb: 'array<float32>[3]' })
  await t.insert([{ id: 1, emb: [1, 0, 0] }])
  const before = t.version
  await t.addEmbeddingIndex('emb', { name: 'e' })
  const r = await search(`late:${before}`, { column: 'emb', vector: [1, 0, 0] })
  expect(r.status).toBe(404)
  expect(r.body.error!.code).toBe('INDEX_NOT_FOUND')
  expect(r.body.error!.message).toBe(`column 'emb' of 'late' at version ${before} has no embedding index; an index added after version ${before} serves only later versions: search the current table`)
  expect((await search('late', { column: 'emb', vector: [1, 0, 0] })).status).toBe(200)
})
