import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { call } from '../../src/query/index.ts'
import { MAX_QUERY_WORDS } from '../../src/index/functions.ts'
import { memoryDb } from '../support/db.ts'

// Search inputs are bounded before they reach the store: a full-text query of 20,000 words held PGlite for minutes
// and damaged its memory; a bad query vector names the element that is wrong.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('bounds', { id: 'int', text: 'string?', emb: 'array<float32>[4]?' })
  await t.insert([{ id: 1, text: 'the lava flows', emb: [1, 0, 0, 0] }, { id: 2, text: 'word soup', emb: [0, 1, 0, 0] }])
  await t.addEmbeddingIndex('text', { embed: embedders.lexical() })
  await t.addEmbeddingIndex('emb', { name: 'vec' })
})
afterAll(() => db.close())

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string }) => e)

describe('search input bounds', () => {
  test('a full-text query of more than MAX_QUERY_WORDS words is refused, naming the limit; one at the limit searches', async () => {
    const long = 'word '.repeat(MAX_QUERY_WORDS + 1)
    const e = await refusal(t.hybridSearch(long, { column: 'text', k: 3 }))
    expect(e?.code).toBe('INVALID_ARGUMENT')
    expect(e?.message).toContain(`more than ${MAX_QUERY_WORDS} words`)
    const inWhere = await refusal(t.where(call('fts_match', [t.c.text, long])).collect())
    expect(inWhere?.message).toContain(`more than ${MAX_QUERY_WORDS} words`)

    const atLimit = (await t.hybridSearch('word '.repeat(MAX_QUERY_WORDS), { column: 'text', k: 3 })).toObjects()
    expect(atLimit.map((r) => r.id)).toContain(2)
    // The store is fine afterwards: a schema change works.
    await t.addColumn('note', 'string?')
  })

  test('a query vector with a bad element names it', async () => {
    const e = await refusal(t.orderBy(t.c.emb.similarity({ vector: [0, Number.NaN, 0, 0] }), 'desc').limit(1).collect())
    expect(e?.message).toContain('element 1 of the query vector is NaN')
    const short = await refusal(t.orderBy(t.c.emb.similarity({ vector: [0, 1] }), 'desc').limit(1).collect())
    expect(short?.message).toContain('must have 4 numbers')
  })
})
