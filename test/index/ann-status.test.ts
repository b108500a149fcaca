import { afterAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { vectorIndexesOf } from '../../src/index/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'

// An index listing says what searches get from the embedded store's native index: 'building' (no graph yet: searches
// rank every row exactly), 'catching up' (rows written since the graph's version are ranked exactly beside it),
// 'ready', or 'not loaded' (after an open, until the table's first search or write). Users and benchmarks wait on it.

const dbs: Tessera[] = []
afterAll(async () => {
  for (const d of dbs) await d.close()
})

const vectors = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, emb: [Math.cos(from + i), Math.sin(from + i), ((from + i) % 7) / 7, 1] }))

test('building, then ready with every vector; a write makes it catch up; over HTTP the same', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('pts', { id: 'int', emb: 'array<float32>[4]' }, { primaryKey: 'id' })
  await t.insert(vectors(0, 3_000))
  await t.addEmbeddingIndex('emb', { name: 'e', metric: 'l2' })
  // The graph is built in the background: the commit that added the index only started it.
  expect(t.listIndexes()[0]!.native).toEqual({ state: 'building', vectors: 0, version: -1 })
  const entry = vectorIndexesOf(db.driver)!.entries(t.id)[0]!
  await entry.settled()
  expect(t.listIndexes()[0]!.native).toEqual({ state: 'ready', vectors: 3_000, version: t.version, quantization: 'f32' })
  await t.insert(vectors(3_000, 10))
  expect(t.listIndexes()[0]!.native).toMatchObject({ state: 'catching up', vectors: 3_000, version: t.version - 1 })
  await entry.settled()
  expect(t.listIndexes()[0]!.native).toEqual({ state: 'ready', vectors: 3_010, version: t.version, quantization: 'f32' })
  const call = jsonCaller(createApp(db))
  expect((await call('GET', '/api/v1/tables/pts/-/indexes')).body.indexes[0].native).toEqual({ state: 'ready', vectors: 3_010, version: t.version, quantization: 'f32' })
  // A time-travel handle searches exactly: its listing has no native status.
  expect((await db.getTable(`pts:${t.version - 1}`)).listIndexes()[0]!.native).toBeUndefined()
})

test('after an open the index is not loaded until the first search; then it is loaded from disk, ready', async () => {
  const home = tempDir()
  let db = await Tessera.open({ home })
  const t = await db.createTable('pts', { id: 'int', emb: 'array<float32>[4]' }, { primaryKey: 'id' })
  await t.insert(vectors(0, 500))
  await t.addEmbeddingIndex('emb', { name: 'e', metric: 'l2' })
  await vectorIndexesOf(db.driver)!.entries(t.id)[0]!.settled()
  await db.close()
  db = await Tessera.open({ home })
  dbs.push(db)
  const again = await db.getTable('pts')
  expect(again.listIndexes()[0]!.native).toEqual({ state: 'not loaded', vectors: 0, version: -1 })
  const sim = again.c.emb.similarity({ vector: [1, 0, 0, 1] })
  expect((await again.orderBy(sim, 'desc').limit(1).select({ id: again.c.id }).collect()).rows).toEqual([{ id: 0 }])
  await vectorIndexesOf(db.driver)!.entries(again.id)[0]!.settled()
  expect(again.listIndexes()[0]!.native).toEqual({ state: 'ready', vectors: 500, version: again.version, quantization: 'f32' })
})

test('vectors counts the rows a search can find: a row updated to null, or deleted, leaves the count; set again, it returns', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('nulls', { id: 'int', emb: 'array<float32>[4]?' }, { primaryKey: 'id' })
  await t.insert(vectors(0, 5))
  await t.addEmbeddingIndex('emb', { name: 'e', metric: 'l2' })
  const entry = vectorIndexesOf(db.driver)!.entries(t.id)[0]!
  const vectorsNow = async () => {
    await entry.settled()
    return t.listIndexes()[0]!.native
  }
  expect(await vectorsNow()).toEqual({ state: 'ready', vectors: 5, version: t.version, quantization: 'f32' })
  // An update keeps the row (and its key in the graph): its earlier vector stayed there and was still counted.
  await t.update({ emb: null }, { where: t.c.id.eq(2) })
  expect(await vectorsNow()).toEqual({ state: 'ready', vectors: 4, version: t.version, quantization: 'f32' })
  await t.batchUpdate([{ id: 4, emb: null }])
  expect((await vectorsNow())!.vectors).toBe(3)
  await t.delete({ where: t.c.id.eq(3) })
  expect((await vectorsNow())!.vectors).toBe(2)
  await t.update({ emb: [1, 0, 0, 1] }, { where: t.c.id.eq(2) })
  expect((await vectorsNow())!.vectors).toBe(3)
  // As many as the rows that hold a vector, over HTTP too.
  expect(await t.where(t.c.emb.isNotNull()).count()).toBe(3)
  expect((await jsonCaller(createApp(db))('GET', '/api/v1/tables/nulls/-/indexes')).body.indexes[0].native.vectors).toBe(3)
})
