import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { udf } from '../../src/compute/udf.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { embedValues } from '../../src/inference/index.ts'
import { dataTable, MAX_VERSION, valueColumn } from '../../src/query/sql.ts'
import { rewriteSimilarity, vectorIndexesOf } from '../../src/index/index.ts'
import { memoryDb } from '../support/db.ts'
import { throwing, rejection } from '../support/settle.ts'

// Switching an embedding index to a new model in the background (db.jobs.startIndex): the table stays writable, the
// old index serves searches until the new one is complete, then the new entry replaces it in one version.

setDefaultTimeout(60_000)

const TOPICS = ['piano concerto orchestra', 'football match goal', 'volcano eruption lava', 'chocolate cake recipe', 'rocket launch orbit']
const N = 600

// "The new model": the lexical embedder at 32 dims, slowed down so the job is observably running for a while.
let gate: Promise<void> = Promise.resolve()
udf({
  name: 'test_slow_lexical32', returns: 'array<float32>[32]', batchSize: 25,
  fn: async (texts: string[]) => {
    if (texts.length > 1) await gate // the job's batches wait; a single inserted row or a query does not
    await Bun.sleep(5)
    return embedValues(embedders.lexical({ dims: 32 }), texts)
  },
})
const slowEmbedder = { fn: 'test_slow_lexical32', opts: { dims: 32 }, modality: 'text' as const }

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, text: `${TOPICS[i % 5]} note ${i}` })))
  await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 64 }), name: 'lex' })
})
afterAll(() => db.close())

const top = async (q: string, k = 3) => (await t.orderBy(t.c.text.similarity(q), 'desc').limit(k).select('id', 'text').collect()).rows

describe('background embedding index build', () => {
  test('the old index serves and the table takes writes while the new one is built; then it is swapped in', async () => {
    let open!: () => void
    gate = new Promise<void>((r) => (open = r)) // hold the job after its first batch starts
    const job = await db.jobs.startIndex({ table: t, column: 'text', embed: slowEmbedder, name: 'lex', ifExists: 'replace', batchSize: 50 })
    expect(job).toMatchObject({ kind: 'add_embedding_index', column: 'text', index: 'lex', status: 'running', rowsTotal: N })

    // While it runs: the old 64-d index answers, writes go through (and compute the new vectors themselves).
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', dims: 64 })])
    expect((await top('volcano lava'))[0]!.text).toContain('volcano')
    await t.insert({ id: 10_000, text: 'zeppelin airship zeppelin' })
    expect(Object.keys(t.schema())).toEqual(['id', 'text'])
    open()

    const done = await db.jobs.wait(job.id)
    expect(done).toMatchObject({ status: 'done', rowsDone: N })
    const [idx] = t.listIndexes()
    expect(t.listIndexes()).toHaveLength(1)
    expect(idx).toMatchObject({ name: 'lex', dims: 32, fullText: 'english', embed: expect.objectContaining({ fn: 'test_slow_lexical32' }) })
    // One hidden vectors column remains, under the index's usual name, and every current row has a vector.
    const hidden = t.md.columns.filter((c) => c.hidden)
    expect(hidden.map((c) => c.name)).toEqual(['_idx_lex'])
    expect(t.md.indexes![0]!.valueColumnId).toBe(hidden[0]!.id)
    const missing = await db.driver.query<{ n: number }>(`select count(*)::int as n from ${dataTable(t.id)} where _v_max = ${MAX_VERSION} and ${valueColumn(hidden[0]!.id)} is null`)
    expect(missing.rows[0]!.n).toBe(0)
    // The new index finds what the old one did, including the row written during the build, on its native index
    // (the embedded store's ANN index, built from the swapped-in vectors column).
    expect((await top('volcano lava'))[0]!.text).toContain('volcano')
    expect((await top('zeppelin airship', 1))[0]!.id).toBe(10_000)
    const native = vectorIndexesOf(db.driver)!.entries(t.id).find((e) => e.idx.valueColumnId === hidden[0]!.id)!
    await native.settled()
    const current = await db.driver.query<{ n: number }>(`select count(*)::int as n from ${dataTable(t.id)} where _v_max = ${MAX_VERSION}`)
    expect(native.native!.size).toBe(current.rows[0]!.n)
    const spec = await rewriteSimilarity(db.driver, t.orderBy(t.c.text.similarity('rocket'), 'desc').limit(3).spec)
    expect(JSON.stringify(spec.where)).toContain('ann_candidates')
    expect((await top('zeppelin airship', 1))[0]!.id).toBe(10_000)
    // The swap is one version, like any schema change.
    expect((await t.history())[0]!.kind).toBe('add_column')
  })

  test('the new graph is built before the swap: searches use it from the first one after the job, not exact ranking', async () => {
    const manager = vectorIndexesOf(db.driver)!
    let open!: () => void
    gate = new Promise<void>((r) => (open = r))
    const job = await db.jobs.startIndex({ table: t, column: 'text', embed: slowEmbedder, name: 'lex', ifExists: 'replace', batchSize: 50 })
    await t.insert({ id: 10_001, text: 'kayak paddle river kayak' }) // during the job: computes its new vector itself
    open()
    expect((await db.jobs.wait(job.id)).status).toBe('done')

    // No waiting for upkeep: the entry that answers for the swapped-in index already has its graph (before, it was
    // built only after the swap, and searches meanwhile ranked every row exactly).
    const idx = t.md.indexes!.find((i) => i.name === 'lex')!
    const entry = manager.entries(t.id).find((e) => e.idx.valueColumnId === idx.valueColumnId && e.idx.addedIn === idx.addedIn)!
    expect(entry).toBeDefined()
    expect(entry.native).toBeDefined()
    expect(entry.version).toBeGreaterThanOrEqual(0)
    expect(entry.rebuildDue).toBe(false)
    expect(manager.prebuiltCount).toBe(0)
    // The old index's entry is gone; a row written after the swap joins searches as a newer row.
    expect(manager.entries(t.id).filter((e) => e.idx.name === 'lex')).toEqual([entry])
    await t.insert({ id: 10_002, text: 'quasar nebula quasar' })
    const spec = await rewriteSimilarity(db.driver, t.orderBy(t.c.text.similarity('kayak river'), 'desc').limit(3).spec)
    expect(JSON.stringify(spec.where)).toContain('ann_candidates')
    expect((await top('kayak river', 1))[0]!.id).toBe(10_001)
    expect((await top('quasar nebula', 1))[0]!.id).toBe(10_002)
    expect((await top('volcano lava'))[0]!.text).toContain('volcano')
    // Upkeep then brings the graph to the table: every current row, the same answers.
    await entry.settled()
    const current = await db.driver.query<{ n: number }>(`select count(*)::int as n from ${dataTable(t.id)} where _v_max = ${MAX_VERSION}`)
    expect(entry.native!.size).toBe(current.rows[0]!.n)
    expect(entry.version).toBe(t.version)
    expect((await top('quasar nebula', 1))[0]!.id).toBe(10_002)
  })

  test('a swap that fails after the graph was built leaves the old index serving and frees the new graph', async () => {
    const manager = vectorIndexesOf(db.driver)!
    let open!: () => void
    gate = new Promise<void>((r) => (open = r))
    const job = await db.jobs.startIndex({ table: t, column: 'text', embed: slowEmbedder, name: 'clash' })
    // The name is taken while the job runs: its swap fails (ifExists 'error'), after the prebuilt graph is ready.
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 16 }), name: 'clash' })
    const served = manager.entries(t.id).find((e) => e.idx.name === 'clash')!
    open()
    const failed = await db.jobs.wait(job.id)
    expect(failed.status).toBe('failed')
    expect(failed.error).toContain("index 'clash'")
    expect(manager.prebuiltCount).toBe(0)
    expect(t.listIndexes().find((i) => i.name === 'clash')).toMatchObject({ dims: 16 })
    expect(manager.entries(t.id).filter((e) => e.idx.name === 'clash')).toEqual([served])
    await served.settled()
    expect(served.native).toBeDefined()
    const sim = t.c.text.similarity('chocolate cake', { idx: 'clash' })
    expect(((await t.orderBy(sim, 'desc').limit(1).select('text').collect()).rows[0]!.text as string)).toContain('chocolate')
    await db.jobs.cancel(job.id, { dropColumn: true })
    await t.dropEmbeddingIndex('clash')
  })

  test('a job stopped while its graph is prebuilt swaps nothing and drops that entry; the old index serves on', async () => {
    const manager = vectorIndexesOf(db.driver)!
    const served = manager.entries(t.id).filter((e) => e.idx.name === 'lex')
    const lex = t.md.indexes!.find((i) => i.name === 'lex')!
    const idx = { ...lex, addedIn: lex.addedIn + 1 } // an entry of its own, over the same vectors
    for (const stopAfter of [0, 3]) {
      let asked = 0
      let swapped = false
      const out = await manager.prebuilt(t.id, idx, () => asked++ >= stopAfter, async () => (swapped = true))
      expect(out).toBeUndefined()
      expect(swapped).toBe(false)
      expect(manager.prebuiltCount).toBe(0)
      expect(manager.entries(t.id).filter((e) => e.idx.name === 'lex')).toEqual(served)
    }
    expect((await top('volcano lava'))[0]!.text).toContain('volcano')
  })

  test('a new name adds a second index; errors name what is wrong', async () => {
    const job = await db.jobs.startIndex({ table: 'docs', column: 'text', embed: embedders.lexical({ dims: 16 }), name: 'small', fullText: false })
    await db.jobs.wait(job.id)
    expect(t.listIndexes().map((i) => [i.name, i.dims])).toEqual([['lex', 32], ['small', 16]])
    expect(t.listIndexes()[1]!.fullText).toBeUndefined()
    const sim = t.c.text.similarity('chocolate cake', { idx: 'small' })
    expect(((await t.orderBy(sim, 'desc').limit(1).select('text').collect()).rows[0]!.text as string)).toContain('chocolate')

    await expect(await rejection(db.jobs.startIndex({ table: t, column: 'text', embed: embedders.lexical(), name: 'small' }))).toMatchObject({ code: 'INDEX_ALREADY_EXISTS' })
    await expect(await rejection(db.jobs.startIndex({ table: t, column: 'nope', embed: embedders.lexical() }))).toMatchObject({ code: 'COLUMN_NOT_FOUND' })
    await expect(await throwing(db.jobs.startIndex({ table: t, column: 'id', embed: embedders.lexical() }))).toThrow(/cannot index column 'id'/)
    await expect(await throwing(db.jobs.startIndex({ table: t, column: 'text', embed: { ...embedders.lexical(), modality: 'image' } }))).toThrow(/modality 'image'/)
  })

  test('cancel with dropColumn leaves the indexes as they were', async () => {
    let open!: () => void
    gate = new Promise<void>((r) => (open = r))
    // The definitions, without the native graphs' state (the cancelled job's commits make them catch up).
    const definitions = () => t.listIndexes().map(({ native: _, ...definition }) => definition)
    const before = definitions()
    const columnsBefore = t.md.columns.length
    const job = await db.jobs.startIndex({ table: t, column: 'text', embed: slowEmbedder, name: 'lex', ifExists: 'replace', batchSize: 50 })
    const cancelling = db.jobs.cancel(job.id, { dropColumn: true })
    open()
    expect((await cancelling).status).toBe('cancelled')
    expect(definitions()).toEqual(before)
    expect(t.md.columns.length).toBe(columnsBefore)
  })
})
