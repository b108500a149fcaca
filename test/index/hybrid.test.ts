import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { call, embedders } from '../../src/index.ts'
import { planQuery } from '../../src/query/planner.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

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

describe('full-text index', () => {
  const explain = async (q: ReturnType<Table['where']>): Promise<string> => {
    const plan = planQuery(q.spec)
    // 12 rows are cheaper to scan than to look up; forbid scans (and the primary key's plain index scan) to see
    // that the full-text index matches the expression.
    await db.driver.exec('analyze; set enable_seqscan = off; set enable_indexscan = off')
    try {
      return (await db.driver.query<{ 'QUERY PLAN': string }>(`explain ${plan.sql}`, plan.params)).rows.map((r) => r['QUERY PLAN']).join('\n')
    } finally {
      await db.driver.exec('reset enable_seqscan; reset enable_indexscan')
    }
  }

  test('a text index on a string column brings an english full-text index that full-text matching uses', async () => {
    expect(t.listIndexes()[0]).toMatchObject({ column: 'text', fullText: 'english' })
    expect(await explain(t.where(call('fts_match', [t.c.text, 'coral'])))).toMatch(/Bitmap Index Scan on t\d+_c\d+_fts_english/)
    // Another configuration is not indexed: still correct, by scanning.
    expect(await explain(t.where(call('fts_match', [t.c.text, 'coral'], { language: 'simple' })))).not.toMatch(/fts_/)
  })

  test('fullText picks the configuration hybrid search uses; false adds none; an unknown one is refused by name', async () => {
    const s = await db.createTable('wiki_simple', { id: 'int', text: 'string' })
    await s.insert(DOCS.map((text, id) => ({ id, text })))
    await s.addEmbeddingIndex('text', { embed: embedders.lexical(), fullText: 'simple' })
    expect(s.listIndexes()[0]!.fullText).toBe('simple')
    expect(await explain(s.where(call('fts_match', [s.c.text, 'corals'], { language: 'simple' })))).toMatch(/_fts_simple/)
    // 'simple' does not stem: 'corals' matches only the document with that exact word, on the full-text side.
    const rows = (await s.hybridSearch('corals', { column: 'text', k: 12 })).rows
    expect(rows.filter((r) => r.textRank !== null).map((r) => r.id)).toEqual([5])

    const none = await db.createTable('wiki_none', { text: 'string' })
    await none.addEmbeddingIndex('text', { embed: embedders.lexical(), fullText: false })
    expect(none.listIndexes()[0]!.fullText).toBeUndefined()

    const bad = await db.createTable('wiki_bad', { text: 'string' })
    await expect(await throwing(bad.addEmbeddingIndex('text', { embed: embedders.lexical(), fullText: 'klingon' }))).toThrow(/no text search configuration 'klingon'.*english/)
    expect(bad.listIndexes()).toEqual([])
    expect(Object.keys(bad.schema())).toEqual(['text'])
  })
})
