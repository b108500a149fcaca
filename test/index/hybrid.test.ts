import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { call, embedders } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

setDefaultTimeout(30_000)

const DOCS = [
  'The Eiffel Tower was completed in 1889 for the World Fair in Paris.',
  'Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen.',
  'The Great Barrier Reef is the largest coral reef system, off the coast of Queensland.',
  'Mitochondria produce most of the chemical energy that powers a cell.',
  'Paris hosted the Summer Olympics in 1900, 1924 and 2024.',
  'Coral bleaching happens when water is too warm and corals expel their algae.',
  'The Louvre in Paris is the most visited art museum in the world.',
  'Plants running photosynthetic reactions release oxygen as a by-product.',
  'A marathon is a long-distance foot race of 42.195 kilometres.',
  'Bitcoin uses a proof-of-work blockchain to order transactions.',
  'Running shoes absorb the impact of each stride during long races.',
  'The Seine flows through Paris before reaching the English Channel.',
]

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('wiki', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(DOCS.map((text, id) => ({ id, text })))
  await t.addEmbeddingIndex('text', { embed: embedders.lexical() })
}, 60_000)
afterAll(() => db.close())

describe('full-text functions', () => {
  test('fts_match uses stemming; fts_rank orders by relevance', async () => {
    const rank = call('fts_rank', [t.c.text, 'coral'])
    const rows = (await t.where(call('fts_match', [t.c.text, 'coral'])).orderBy(rank, 'desc').select('id').collect()).rows
    expect(rows.map((r) => r.id)).toEqual([5, 2]) // 'Coral ... corals' stems to two hits
    const both = (await t.where(call('fts_match', [t.c.text, 'coral reefs'])).select('id').collect()).rows
    expect(both.map((r) => r.id)).toEqual([2])
  })
})

describe('hybridSearch', () => {
  test('fuses full-text and vector rankings by reciprocal rank', async () => {
    const rows = (await t.hybridSearch('photosynthesis oxygen', { column: 'text', k: 3 })).rows
    expect(rows.map((r) => r.id).slice(0, 2).sort()).toEqual([1, 7])
    // Document 1 matches both words in full text and is the closest vector: first on both sides.
    expect(rows[0]).toMatchObject({ id: 1, textRank: 1, vectorRank: 1 })
    expect(rows[0]!.score).toBeCloseTo(2 / 61, 10)
    const scores = rows.map((r) => r.score as number)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
  })

  test('vector side rescues a document full-text misses (word pieces), full text alone would not find it', async () => {
    // 'photosynthetic' shares no lexeme with 'photosynthesis' after stemming, but shares character n-grams.
    const ft = (await t.where(call('fts_match', [t.c.text, 'photosynthesis'])).select('id').collect()).rows.map((r) => r.id)
    expect(ft).toEqual([1])
    const rows = (await t.hybridSearch('photosynthesis', { column: 'text', k: 2 })).rows
    expect(rows.map((r) => r.id)).toEqual([1, 7])
    expect(rows[1]).toMatchObject({ textRank: null })
  })

  test('a where filter applies to both sides', async () => {
    const rows = (await t.hybridSearch('Paris', { column: 'text', k: 10, where: t.c.id.gt(4) })).rows
    expect(rows.length).toBe(7) // ids 5..11
    // The two Paris documents past id 4 (the Louvre, the Seine) are on both sides and come first.
    expect(rows.slice(0, 2).map((r) => r.id as number).sort((a, b) => a - b)).toEqual([6, 11])
    expect(rows.slice(0, 2).every((r) => r.textRank !== null && r.vectorRank !== null)).toBe(true)
    expect(rows.slice(2).every((r) => r.textRank === null)).toBe(true)
    expect(rows.every((r) => (r.id as number) > 4)).toBe(true)
    expect(rows[0]).toHaveProperty('text')
  })
})
