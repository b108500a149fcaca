import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders, TesseraError } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A search returns every column of its table intact, whatever its name: a column named like one of the search's own
// outputs (score, textRank, vectorRank) keeps its name and value, and the search's output takes the first free name
// of `score_1`, `score_2`, … (README, "Media, iterators and embedding search"). Names starting with _ are columns
// like any other (hybrid search hid them from `columns`, and dropped one named _rid from the rows).

setDefaultTimeout(60_000)

let db: Tessera
let t: Table
let plain: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('clash', { id: 'int', _tag: 'string', _rid: 'string', score: 'int', score_1: 'string', textRank: 'string', text: 'string' })
  await t.insert([
    { id: 1, _tag: 'x', _rid: 'keep-1', score: 5, score_1: 'taken', textRank: 'mine', text: 'red apple' },
    { id: 2, _tag: 'y', _rid: 'keep-2', score: 7, score_1: 'taken', textRank: 'mine', text: 'green apple' },
    { id: 3, _tag: 'z', _rid: 'keep-3', score: 9, score_1: 'taken', textRank: 'mine', text: 'blue sky' },
  ])
  await t.addEmbeddingIndex('text', { embed: embedders.lexical() })
  plain = await db.createTable('plain', { id: 'int', text: 'string' })
  await plain.insert([{ id: 1, text: 'red apple' }, { id: 2, text: 'blue sky' }])
  await plain.addEmbeddingIndex('text', { embed: embedders.lexical() })
})
afterAll(() => db.close())

const TABLE_COLUMNS = ['id', '_tag', '_rid', 'score', 'score_1', 'textRank', 'text']

describe('hybridSearch output names', () => {
  test('every table column comes back intact; clashing outputs take a free name', async () => {
    const rs = await t.hybridSearch('apple', { column: 'text', k: 2 })
    expect(rs.columns.map((c) => c.name)).toEqual([...TABLE_COLUMNS, 'score_2', 'textRank_1', 'vectorRank'])
    expect(rs.columns.find((c) => c.name === 'score')!.type).toMatch(/^int/)
    expect(rs.columns.find((c) => c.name === 'score_2')!.type).toBe('float')
    const rows = rs.toObjects()
    expect(rows.map((r) => r.id).sort()).toEqual([1, 2])
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(rs.columns.map((c) => c.name))
      expect(r._rid).toBe(`keep-${r.id}`)
      expect(r._tag).toBe(r.id === 1 ? 'x' : 'y')
      expect(r.score).toBe(r.id === 1 ? 5 : 7)
      expect(r.score_1).toBe('taken')
      expect(r.textRank).toBe('mine')
      expect(r.score_2).toBeGreaterThan(0)
      expect(r.textRank_1).toBeGreaterThanOrEqual(1)
    }
  })

  test('a table without clashes keeps the usual shape', async () => {
    const rs = await plain.hybridSearch('apple', { column: 'text', k: 1 })
    expect(rs.columns.map((c) => c.name)).toEqual(['id', 'text', 'score', 'textRank', 'vectorRank'])
  })

  test('k must be a whole number from 1 to 1000, and unknown options are refused by name', async () => {
    const refused = (options: Record<string, unknown>) => plain.hybridSearch('apple', { column: 'text', ...options }).then(() => undefined, (e) => e)
    for (const k of [-1, 0, 1.5, 1001, '2']) {
      const e = await refused({ k })
      expect(e).toBeInstanceOf(TesseraError)
      expect((e as TesseraError).code).toBe('INVALID_ARGUMENT')
      expect((e as Error).message).toMatch(/hybridSearch\(\): k must be an integer from 1 to 1000/)
    }
    const unknown = await refused({ topK: 3 })
    expect((unknown as TesseraError).code).toBe('INVALID_ARGUMENT')
    expect((unknown as Error).message).toMatch(/hybridSearch: unknown option 'topK'/)
    expect(((await refused({ candidates: 0 })) as Error).message).toMatch(/candidates must be an integer from 1 to 10000/)
    expect((await plain.hybridSearch('apple', { column: 'text', k: 1000 })).rows.length).toBe(2)
  })
})

describe('HTTP search output names', () => {
  const search = async (body: unknown) => {
    const r = await createApp(db).request('/api/v1/tables/clash/-/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, body: (await r.json()) as { columns: { name: string; type: string }[]; rows: Record<string, unknown>[] } }
  }

  test('similarity search keeps a column named score; its own score takes a free name', async () => {
    const r = await search({ column: 'text', text: 'apple', k: 2 })
    expect(r.status).toBe(200)
    expect(r.body.columns.map((c) => c.name)).toEqual([...TABLE_COLUMNS, 'score_2'])
    for (const row of r.body.rows) {
      expect(row.score).toBe(row.id === 1 ? 5 : 7)
      expect(row._rid).toBe(`keep-${row.id}`)
      expect(row.score_2).toBeGreaterThan(0)
    }
  })

  test('hybrid search over HTTP answers the same names as the library', async () => {
    const r = await search({ column: 'text', text: 'apple', k: 2, hybrid: true })
    expect(r.status).toBe(200)
    expect(r.body.columns.map((c) => c.name)).toEqual([...TABLE_COLUMNS, 'score_2', 'textRank_1', 'vectorRank'])
    expect(r.body.rows.map((row) => row.score).sort()).toEqual([5, 7])
  })
})
