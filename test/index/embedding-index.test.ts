import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { planQuery } from '../../src/query/planner.ts'
import { rewriteSimilarity, vectorIndexesOf } from '../../src/index/index.ts'
import { memoryDb } from '../support/db.ts'
import { throwing, rejection } from '../support/settle.ts'

setDefaultTimeout(30_000)

const TOPICS = ['piano concerto orchestra', 'football match goal', 'volcano eruption lava', 'chocolate cake recipe', 'rocket launch orbit']

let db: Tessera
let docs: Table
beforeAll(async () => {
  db = await memoryDb()
  docs = await db.createTable('docs', { id: 'int', text: 'string', cat: 'int' }, { primaryKey: 'id' })
  await docs.insert(Array.from({ length: 200 }, (_, i) => ({ id: i, text: `${TOPICS[i % 5]} note ${i}`, cat: i % 10 })))
  await docs.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 64 }), metric: 'cosine', name: 'lex' })
}, 60_000)
afterAll(() => db.close())

const top = async (t: Table, q: string, k = 5, where?: Parameters<Table['where']>[0]) => {
  const sim = t.c.text.similarity(q)
  const base = where === undefined ? t.query() : t.where(where)
  return (await base.orderBy(sim, 'desc').limit(k).select({ id: t.c.id, text: t.c.text, score: sim }).collect()).rows
}

describe('embedding index', () => {
  test('is a hidden computed column plus index metadata', () => {
    expect(docs.listIndexes()).toEqual([{ name: 'lex', column: 'text', metric: 'cosine', dims: 64, embed: expect.objectContaining({ fn: 'lexical_embed' }), fullText: 'english', native: expect.objectContaining({ state: expect.any(String) }) }])
    expect(Object.keys(docs.schema())).toEqual(['id', 'text', 'cat'])
    const hidden = docs.md.columns.find((c) => c.hidden)!
    expect(hidden.type).toBe('array<float32>[64]?')
    expect(docs.md.indexes![0]!.valueColumnId).toBe(hidden.id)
  })

  test('similarity ranks the matching topic first, scores descending', async () => {
    const rows = await top(docs, 'volcano lava')
    expect(rows).toHaveLength(5)
    for (const r of rows) expect(r.text).toContain('volcano')
    const scores = rows.map((r) => r.score as number)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    expect(scores[0]).toBeGreaterThan(0.3)
  })

  test('orderBy(similarity, desc) runs on the native index on the embedded store (no pgvector HNSW there)', async () => {
    await Promise.all(vectorIndexesOf(db.driver)!.entries(docs.id).map((e) => e.settled()))
    const q = docs.orderBy(docs.c.text.similarity('rocket'), 'desc').limit(3)
    const spec = await rewriteSimilarity(db.driver, q.spec)
    expect(JSON.stringify(spec.where)).toContain('ann_candidates')
    // Forbid the scan to see that the candidates are fetched through the _rowid index.
    await db.driver.exec('set enable_seqscan = off')
    const plan = planQuery(spec)
    const explain = (await db.driver.query<{ 'QUERY PLAN': string }>(`explain ${plan.sql}`, plan.params)).rows.map((r) => r['QUERY PLAN']).join('\n')
    await db.driver.exec('reset enable_seqscan')
    expect(explain).toContain(`t${docs.id}_rowid_cur`)
    const physical = await db.driver.query<{ indexname: string }>(`select indexname from pg_indexes where tablename = $1`, [`t${docs.id}`])
    expect(physical.rows.map((r) => r.indexname).filter((n) => /_e\d+$/.test(n))).toEqual([])
  })

  test('filtered top-k returns k rows (iterative scan)', async () => {
    const rows = await top(docs, 'piano orchestra', 12, docs.c.cat.eq(7))
    expect(rows).toHaveLength(12)
    expect(new Set(rows.map((r) => (r.id as number) % 10))).toEqual(new Set([7]))
  })

  test('similarity works in where and select with a vector query', async () => {
    const [probe] = await (await import('../../src/inference/index.ts')).embedValues(embedders.lexical({ dims: 64 }), ['chocolate cake'])
    const sim = docs.c.text.similarity({ vector: probe })
    const n = await docs.where(sim.gt(0.3)).count()
    expect(n).toBe(40)
  })

  test('the index follows insert, update, delete and revert', async () => {
    const t = await db.createTable('sync', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert(TOPICS.map((text, id) => ({ id, text })))
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 64 }) })
    await t.insert([{ id: 10, text: 'submarine sonar depth' }])
    expect((await top(t, 'submarine sonar', 1))[0]!.id).toBe(10)
    await t.update({ text: 'glacier ice melting' }, { where: t.c.id.eq(10) })
    expect((await top(t, 'glacier ice', 1))[0]!.id).toBe(10)
    expect((await top(t, 'submarine sonar', 1))[0]!.text).not.toContain('submarine')
    await t.revert() // undo the update: the submarine text and its vector are back
    expect((await top(t, 'submarine sonar', 1))[0]).toMatchObject({ id: 10, text: 'submarine sonar depth' })
    await t.delete({ where: t.c.id.eq(10) })
    expect((await top(t, 'submarine sonar', 10)).map((r) => r.id)).not.toContain(10)
    expect(await t.count()).toBe(5)
  })

  test('several indexes per column; idx picks one; errors name the fix', async () => {
    const t = await db.createTable('multi', { id: 'int', text: 'string' })
    await t.insert(TOPICS.map((text, id) => ({ id, text })))
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), name: 'a' })
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 48, seed: 5 }), name: 'b', metric: 'ip' })
    await expect(await rejection(top(t, 'rocket'))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('several indexes') })
    const sim = t.c.text.similarity('rocket orbit', { idx: 'b' })
    const rows = (await t.orderBy(sim, 'desc').limit(1).select({ id: t.c.id }).collect()).rows
    expect(rows[0]!.id).toBe(4)
    await expect(await rejection(t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'a' }))).toMatchObject({ code: 'INDEX_ALREADY_EXISTS' })
    expect((await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'a', ifExists: 'ignore' })).numRows).toBe(0)
    await t.dropEmbeddingIndex('a')
    expect(t.listIndexes().map((i) => i.name)).toEqual(['b'])
    await expect(await rejection(t.dropEmbeddingIndex('a'))).toMatchObject({ code: 'INDEX_NOT_FOUND' })
    expect((await top(t, 'football goal', 1))[0]!.id).toBe(1)
    await t.revert() // the drop is undone: index 'a' is back and usable
    expect(t.listIndexes().map((i) => i.name).sort()).toEqual(['a', 'b'])
    const back = t.c.text.similarity('volcano', { idx: 'a' })
    expect((await t.orderBy(back, 'desc').limit(1).select({ id: t.c.id }).collect()).rows[0]!.id).toBe(2)
    await expect(await throwing(t.select(t.c.id.similarity('x')).collect())).toThrow()
    // the indexed column cannot be dropped from under its indexes; the error names them, not their hidden columns
    await expect(await rejection(t.dropColumn('text'))).toMatchObject({ code: 'HAS_DEPENDENTS', message: expect.stringMatching(/embedding index\(es\) 'a', 'b' \(dropEmbeddingIndex\)/) })
  })

  test("ifExists: 'replace' swaps the index in one version; revert brings the old one back", async () => {
    const t = await db.createTable('swap', { id: 'int', text: 'string' })
    await t.insert(TOPICS.map((text, id) => ({ id, text })))
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), name: 'x' })
    const v = t.version
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 48 }), name: 'x', ifExists: 'replace' })
    expect(t.version).toBe(v + 1) // no version in between where 'x' is missing
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'x', dims: 48 })])
    expect(t.md.columns.filter((c) => c.hidden).map((c) => c.name)).toEqual(['_idx_x'])
    expect((await top(t, 'rocket launch', 1))[0]!.id).toBe(4)
    await t.revert()
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'x', dims: 32 })])
    expect((await top(t, 'volcano', 1))[0]!.id).toBe(2)
  })

  test('check() finds an index whose vectors or physical indexes went missing', async () => {
    const t = await db.createTable('chk', { id: 'int', text: 'string' })
    await t.insert(TOPICS.map((text, id) => ({ id, text })))
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 16 }), name: 'c' })
    const mine = async () => (await db.check()).problems.filter((x) => x.table === 'chk').map((x) => x.problem)
    expect(await mine()).toEqual([])
    const idx = t.md.indexes![0]!
    // Damage it behind Tessera's back: one vector erased, the native index loses a row, the full-text index dropped.
    await db.driver.exec(`update tessera_data.t${t.id} set c${idx.valueColumnId} = null where c${t.md.columns.find((c) => c.name === 'id')!.id} = 1`)
    await db.driver.exec(`drop index tessera_data.t${t.id}_c${idx.columnId}_fts_english`)
    const entry = vectorIndexesOf(db.driver)!.entries(t.id)[0]!
    await entry.settled()
    entry.native!.remove(BigUint64Array.of(3n))
    const problems = await mine()
    expect(problems.some((x) => /^native index 'c' lacks 1 of the \d+ vectors of version \d+/.test(x))).toBe(true)
    expect(problems).toContain(`index 'c' has no full-text index t${t.id}_c${idx.columnId}_fts_english`)
    expect(problems.some((x) => x.startsWith("index 'c': 1 current rows have a value but no vector"))).toBe(true)
    // The check started a rebuild: the native index is whole again.
    await entry.settled()
    expect((await mine()).filter((x) => x.startsWith('native'))).toEqual([])
    await db.dropTable('chk')
  })

  test('reverting the version that added an index removes it', async () => {
    const t = await db.createTable('rev', { id: 'int', text: 'string' })
    await t.insert([{ id: 1, text: 'alpha' }])
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 16 }) })
    await t.revert()
    expect(t.listIndexes()).toEqual([])
    expect(t.md.columns.some((c) => c.hidden)).toBe(false)
    await expect(await rejection(top(t, 'alpha'))).toMatchObject({ code: 'INDEX_NOT_FOUND' })
  })
})
