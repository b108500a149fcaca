import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table } from '../../src/index.ts'
import { Tessera } from '../../src/index.ts'
import { vectorIndexesOf } from '../../src/index/index.ts'
import { chooseAnnEngine, inWorker } from '../../src/index/ann/native.ts'
import { memoryDb } from '../support/db.ts'

setDefaultTimeout(120_000)

// The native index engine on the serving thread: what runs where no index worker can start (a runtime without
// Worker, a binary without its entry).

describe('native ANN index without the index worker', () => {
  let db: Tessera
  let t: Table
  const vectors = Array.from({ length: 3000 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.fround(Math.sin(i * 0.37 + j * 1.3) + (i % 11) / 10)))
  beforeAll(async () => {
    chooseAnnEngine('thread')
    db = await memoryDb()
    t = await db.createTable('v', { id: 'int', emb: 'array<float32>[8]' })
    await t.insert(vectors.map((emb, id) => ({ id, emb })))
    await t.addEmbeddingIndex('emb', { name: 'e', metric: 'l2' })
    await Promise.all(vectorIndexesOf(db.driver)!.entries(t.id).map((e) => e.settled()))
  })
  afterAll(async () => {
    await db.close()
    chooseAnnEngine('auto')
  })

  test('builds on this thread in time-bounded adds and answers like the exact search', async () => {
    expect(await inWorker()).toBe(false)
    const [entry] = vectorIndexesOf(db.driver)!.entries(t.id)
    expect(entry!.native!.size).toBe(3000)
    const q = vectors[1234]!
    const top = async (exact: boolean) => (await t.orderBy(t.c.emb.similarity({ vector: q }, { exact }), 'desc').limit(10).select({ id: t.c.id }).collect()).rows.map((r) => r.id)
    const truth = await top(true)
    expect(truth[0]).toBe(1234)
    const got = await top(false)
    expect(got.filter((id) => truth.includes(id)).length).toBeGreaterThanOrEqual(9)
  })
})
