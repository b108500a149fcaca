import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table } from '../../src/index.ts'
import { embedders, Tessera } from '../../src/index.ts'
import { annLimits, exactStepLimits } from '../../src/index/ann/index.ts'
import { Engine } from '../../src/index/ann/engine.ts'
import { readVectors } from '../../src/index/ann/store.ts'
import { rewriteSimilarity, vectorIndexesOf } from '../../src/index/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { throwing, rejection } from '../support/settle.ts'
import { testVectors } from '../support/vectors.ts'
import { jsonCaller } from '../support/http.ts'

setDefaultTimeout(120_000)

// The embedded store's native index on generated clustered vectors (a column of vectors, no embedder): answers are
// checked against exact top-k computed here in JS, for filters from 0.1% to 100% of the rows.

const DIMS = 24
const N = 10_000
const { rand, unit, clustered, dot } = testVectors(7, DIMS)

const settle = (db: Tessera, t: Table) => Promise.all(vectorIndexesOf(db.driver)!.entries(t.id).map((e) => e.settled()))

describe('native ANN index (embedded store)', () => {
  let db: Tessera
  let t: Table
  const vectors: number[][] = []
  beforeAll(async () => {
    db = await memoryDb()
    t = await db.createTable('vecs', { id: 'int', bucket: 'int', emb: 'array<float32>[24]' }, { primaryKey: 'id' })
    for (let i = 0; i < N; i++) vectors.push(clustered())
    // bucket = id % 1000: "bucket < n" keeps n/10 % of the rows.
    for (let i = 0; i < N; i += 2500) await t.insert(vectors.slice(i, i + 2500).map((emb, j) => ({ id: i + j, bucket: (i + j) % 1000, emb })))
    await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
    await settle(db, t)
  })
  afterAll(() => db.close())

  const exactTop = (q: number[], k: number, keep: (id: number) => boolean) =>
    vectors.map((v, id) => [id, dot(v, q)] as const).filter(([id]) => keep(id)).sort((a, b) => b[1] - a[1]).slice(0, k).map(([id]) => id)

  const search = async (q: number[], k: number, maxBucket?: number, options: { exact?: boolean; efSearch?: number } = {}) => {
    const sim = t.c.emb.similarity({ vector: q }, options)
    const base = maxBucket === undefined ? t.query() : t.where(t.c.bucket.lt(maxBucket))
    return (await base.orderBy(sim, 'desc').limit(k).select({ id: t.c.id, score: sim }).collect()).rows
  }

  test('indexes a column of vectors without an embedder; the native index holds every row', async () => {
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'e', column: 'emb', dims: 24, embed: { fn: 'vectors', opts: { dims: 24 }, modality: 'vector' } })])
    const [entry] = vectorIndexesOf(db.driver)!.entries(t.id)
    expect(entry!.native!.size).toBe(N)
    expect(entry!.version).toBe(t.version)
    await expect(await rejection(search([1, 2], 3))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(await throwing(t.orderBy(t.c.emb.similarity('text'), 'desc').limit(3).collect())).toThrow(/column of vectors/)
  })

  test('recall@10 >= 0.95 for filters keeping 0.1% to 100% of the rows, never fewer than k rows', async () => {
    // A lower exact-search threshold than the default, so 1% and 10% filters go through the native index too.
    const saved = annLimits.exactRows
    annLimits.exactRows = 50
    try {
      for (const maxBucket of [1, 10, 100, 500, undefined]) {
        let hits = 0
        const Q = 30
        for (let i = 0; i < Q; i++) {
          const q = clustered()
          const keep = (id: number) => maxBucket === undefined || id % 1000 < maxBucket
          const truth = exactTop(q, 10, keep)
          const got = (await search(q, 10, maxBucket)).map((r) => r.id as number)
          expect(got).toHaveLength(10)
          for (const id of got) expect(keep(id)).toBe(true)
          hits += got.filter((id) => truth.includes(id)).length
        }
        expect({ maxBucket, recall: hits / (Q * 10) }).toEqual({ maxBucket, recall: expect.any(Number) })
        expect(hits / (Q * 10)).toBeGreaterThanOrEqual(0.95)
      }
      // The native candidates were used (not an exact scan) for the 10% filter.
      const spec = await rewriteSimilarity(db.driver, t.where(t.c.bucket.lt(100)).orderBy(t.c.emb.similarity({ vector: clustered() }), 'desc').limit(10).spec)
      expect(JSON.stringify(spec.where)).toContain('ann_candidates')
    } finally {
      annLimits.exactRows = saved
    }
  })

  test('exact: true and a wider efSearch give the exact answer', async () => {
    const q = clustered()
    const truth = exactTop(q, 10, () => true)
    expect((await search(q, 10, undefined, { exact: true })).map((r) => r.id)).toEqual(truth)
    const spec = await rewriteSimilarity(db.driver, t.orderBy(t.c.emb.similarity({ vector: q }, { exact: true }), 'desc').limit(10).spec)
    // Exact: ordered by the exact distance, over candidates that slices of the table ranked exactly (exact.ts), not
    // by the index's distances.
    expect((spec.orderBy[0]!.expr as { fn: string }).fn).toBe('vector_distance')
    const keys = String((spec.where as { opts?: { keys?: string } }).opts?.keys).slice(1, -1).split(',')
    expect(keys.length).toBeGreaterThan(10) // the nearest 10 of each slice
    const wide = (await search(q, 10, undefined, { efSearch: 400 })).map((r) => r.id)
    expect(wide.filter((id) => truth.includes(id as number)).length).toBeGreaterThanOrEqual(9)
    await expect(await rejection(search(q, 10, undefined, { efSearch: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  test('rows are searchable as soon as their insert returns; updates and deletes are seen at once', async () => {
    const q = clustered()
    const far = unit(q.map((x) => -x))
    await t.insert([{ id: N, bucket: 0, emb: q }])
    expect((await search(q, 1))[0]).toEqual({ id: N, score: expect.closeTo(1, 4) })
    await t.update({ emb: far }, { where: t.c.id.eq(N) })
    expect((await search(q, 3)).map((r) => r.id)).not.toContain(N)
    expect((await search(far, 1))[0]!.id).toBe(N)
    await t.delete({ where: t.c.id.eq(N) })
    expect((await search(far, 1))[0]!.id).not.toBe(N)
    await settle(db, t)
    const [entry] = vectorIndexesOf(db.driver)!.entries(t.id)
    expect(entry!.version).toBe(t.version)
  })

  test('rows written after the version the index covers are ranked with its candidates on every metric (one statement)', async () => {
    // Its own random numbers: the shared sequence stays as the other tests expect it.
    let s2 = 99
    const r2 = () => ((s2 = (Math.imul(s2, 1103515245) + 12345) >>> 0) / 4294967296)
    // Vectors of different lengths, so cosine, inner product and L2 rank them differently.
    const scaled = vectors.slice(0, 3000).map((v, i) => v.map((x) => Math.fround(x * (0.5 + (i % 7) / 4))))
    const m = await db.createTable('metrics', { id: 'int', emb: 'array<float32>[24]' })
    await m.insert(scaled.map((emb, id) => ({ id, emb })))
    for (const metric of ['cosine', 'ip', 'l2'] as const) await m.addEmbeddingIndex('emb', { name: metric, metric })
    await settle(db, m)
    const q = vectors[4321]!
    const fresh = Array.from({ length: 5 }, (_, i) => q.map((x) => Math.fround((x + 0.1 * (r2() - 0.5)) * (0.6 + i / 5))))
    const score = { cosine: (v: number[]) => dot(v, q) / Math.hypot(...v), ip: (v: number[]) => dot(v, q), l2: (v: number[]) => -Math.hypot(...v.map((x, i) => x - q[i]!)) }
    const before = m.version
    await m.insert(fresh.map((emb, i) => ({ id: 3000 + i, emb })))
    const all = [...scaled, ...fresh]
    for (const metric of ['cosine', 'ip', 'l2'] as const) {
      const sim = m.c.emb.similarity({ vector: q }, { idx: metric })
      const query = m.orderBy(sim, 'desc').limit(10).select({ id: m.c.id, s: sim })
      // Planned before the index caught up with the insert: the new rows come from the statement, not the index.
      const spec = JSON.stringify((await rewriteSimilarity(db.driver, query.spec)).where)
      if (metric === 'cosine') expect(spec).toContain(`"after":${before}`)
      const got = (await query.collect()).rows
      const truth = all.map((v, id) => [id, score[metric](v)] as const).sort((a, b) => b[1] - a[1]).slice(0, 10)
      expect(got.filter((r) => truth.some(([id]) => id === r.id)).length).toBeGreaterThanOrEqual(9)
      for (const [id] of truth) if (id >= 3000) expect(got.map((r) => r.id)).toContain(id)
      // In order of their scores, within the index's error: f16 for cosine (the default; 1e-4), f32 for the others.
      const error = metric === 'cosine' ? 2e-4 : 1e-6
      for (let i = 1; i < got.length; i++) expect(got[i - 1]!.s as number).toBeGreaterThanOrEqual((got[i]!.s as number) - error)
    }
    await db.dropTable('metrics')
  })

  test('a long tail of rows the index has not caught up with is ranked a slice at a time, not in the final statement', async () => {
    const saved = { tail: annLimits.tailInStatement, single: exactStepLimits.singleStatementBlocks }
    annLimits.tailInStatement = 3
    exactStepLimits.singleStatementBlocks = 0
    try {
      const m = await db.createTable('tail', { id: 'int', emb: 'array<float32>[24]' })
      await m.insert(vectors.slice(0, 2000).map((emb, id) => ({ id, emb })))
      // f32: the new rows are near-copies of q, closer to each other than f16's error (1e-4), and the exact order
      // below must hold whether the slices or the caught-up graph rank them.
      await m.addEmbeddingIndex('emb', { name: 'e', quantization: 'f32' })
      await settle(db, m)
      const q = vectors[1234]!
      const fresh = Array.from({ length: 40 }, (_, i) => q.map((x, j) => Math.fround(x + 0.02 * Math.sin(i * 7 + j))))
      await m.insert(fresh.map((emb, i) => ({ id: 2000 + i, emb })))
      // efSearch wide enough for an exact answer from the graph too: the index may catch up with the insert before
      // the query is planned (then the graph ranks the new rows), and the answer must not depend on that race.
      const query = m.orderBy(m.c.emb.similarity({ vector: q }, { efSearch: 500 }), 'desc').limit(10).select({ id: m.c.id })
      // Planned before the index caught up: the 40 new rows are more than tailInStatement, so slices ranked them
      // and the final statement lists only rows written after the version the slices read (the current one).
      const spec = JSON.stringify((await rewriteSimilarity(db.driver, query.spec)).where)
      expect(spec).toContain(`"after":${m.version}`)
      const all = [...vectors.slice(0, 2000), ...fresh]
      const truth = all.map((v, id) => [id, dot(v, q) / Math.hypot(...v)] as const).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([id]) => id)
      expect((await query.collect()).rows.map((r) => r.id)).toEqual(truth)
      await db.dropTable('tail')
    } finally {
      annLimits.tailInStatement = saved.tail
      exactStepLimits.singleStatementBlocks = saved.single
    }
  })

  test('after most rows are deleted a search still returns k live rows, at once and after catch-up', async () => {
    const s = await db.createTable('mostly_gone', { id: 'int', emb: 'array<float32>[24]' })
    await s.insert(vectors.slice(0, 4000).map((emb, id) => ({ id, emb })))
    await s.addEmbeddingIndex('emb', { name: 'e' })
    await settle(db, s)
    expect(vectorIndexesOf(db.driver)!.entries(s.id)[0]!.liveOnly).toBe(true)
    await s.delete({ where: s.c.id.ge(100) })
    const top = async () => (await s.orderBy(s.c.emb.similarity({ vector: vectors[3000]! }), 'desc').limit(10).select({ id: s.c.id }).collect()).rows.map((r) => r.id as number)
    const truth = exactTop(vectors[3000]!, 10, (id) => id < 100)
    expect(await top()).toEqual(truth)
    await settle(db, s)
    const entry = vectorIndexesOf(db.driver)!.entries(s.id)[0]!
    expect(entry.native!.size).toBe(100)
    expect(entry.liveOnly).toBe(true)
    expect(await top()).toEqual(truth)
  })

  test('a column of vectors is indexed as is: no hidden copy; drop, replace, revert and a second metric keep the column', async () => {
    const s = await db.createTable('own_vectors', { id: 'int', emb: 'array<float32>[24]' })
    await s.insert(vectors.slice(0, 300).map((emb, id) => ({ id, emb })))
    const columns = s.md.columns.map((c) => c.name)
    const before = s.version
    await s.addEmbeddingIndex('emb', { name: 'cos' })
    // The index names the column itself; no column was added (the copy was a third of the build).
    expect(s.md.columns.map((c) => c.name)).toEqual(columns)
    expect(s.md.indexes![0]).toMatchObject({ name: 'cos', columnId: s.md.columns[1]!.id, valueColumnId: s.md.columns[1]!.id })
    await s.addEmbeddingIndex('emb', { name: 'near', metric: 'l2' })
    await settle(db, s)
    const q = vectors[5]!
    const top = async (idx: string) => (await s.orderBy(s.c.emb.similarity({ vector: q }, { idx }), 'desc').limit(3).select({ id: s.c.id }).collect()).rows.map((r) => r.id)
    expect(await top('cos')).toEqual(exactTop(q, 3, (id) => id < 300))
    expect((await top('near'))[0]).toBe(5)
    expect(vectorIndexesOf(db.driver)!.entries(s.id).map((e) => e.native?.size)).toEqual([300, 300])
    // The column cannot be dropped from under its indexes; dropping an index leaves the column and the other index.
    await expect(await rejection(s.dropColumn('emb'))).toMatchObject({ code: 'HAS_DEPENDENTS', message: expect.stringMatching(/'cos', 'near'/) })
    await s.dropEmbeddingIndex('near')
    expect(s.listIndexes().map((i) => i.name)).toEqual(['cos'])
    expect(s.md.columns.map((c) => c.name)).toEqual(columns)
    expect((await s.where(s.c.id.eq(7)).select({ emb: s.c.emb }).collect()).rows[0]!.emb).toHaveLength(24)
    // Replaced in place with other settings: a new native index under the same name.
    await s.addEmbeddingIndex('emb', { name: 'cos', m: 8, ifExists: 'replace' })
    expect(s.listIndexes()).toEqual([expect.objectContaining({ name: 'cos', ann: { m: 8 } })])
    await settle(db, s)
    expect(vectorIndexesOf(db.driver)!.entries(s.id).map((e) => [e.settings.m, e.native?.size])).toEqual([[8, 300]])
    expect(await top('cos')).toEqual(exactTop(q, 3, (id) => id < 300))
    expect((await db.check()).problems).toEqual([])
    while (s.version > before) await s.revert()
    expect(s.listIndexes()).toEqual([])
    expect(s.md.columns.map((c) => c.name)).toEqual(columns)
    await db.dropTable('own_vectors')
  })

  test('time travel answers exactly at an old version; revert repairs the index', async () => {
    const before = t.version
    const q = clustered()
    await t.insert([{ id: N + 1, bucket: 0, emb: q }])
    await settle(db, t)
    const old = await db.getTable(`vecs:${before}`)
    const oldTop = (await old.orderBy(old.c.emb.similarity({ vector: q }), 'desc').limit(5).select({ id: old.c.id }).collect()).rows.map((r) => r.id)
    expect(oldTop).not.toContain(N + 1)
    expect(oldTop).toEqual(exactTop(q, 5, () => true))
    await t.revert()
    expect((await search(q, 1))[0]!.id).not.toBe(N + 1)
    await settle(db, t)
    const [entry] = vectorIndexesOf(db.driver)!.entries(t.id)
    expect(entry!.version).toBe(before)
    expect(await entry!.problems()).toEqual([])
  })

  test('an exact search ranks the table a slice of blocks per statement: same answer, and reads run in between', async () => {
    const saved = { ...exactStepLimits }
    exactStepLimits.maxSliceBlocks = 2 // many slices, whatever this machine's speed
    try {
      const q = clustered()
      expect((await search(q, 10, undefined, { exact: true })).map((r) => r.id)).toEqual(exactTop(q, 10, () => true))
      expect((await search(q, 7, 300, { exact: true })).map((r) => r.id)).toEqual(exactTop(q, 7, (id) => id % 1000 < 300))
      const old = await db.getTable(`vecs:${t.version}`)
      const oldTop = await old.orderBy(old.c.emb.similarity({ vector: q }), 'desc').limit(5).select({ id: old.c.id }).collect()
      expect(oldTop.rows.map((r) => r.id)).toEqual(exactTop(q, 5, () => true))
      // A point read sent after the search started answers before it ends: it ran between two slices (with one
      // statement ranking every row, it would wait for the whole search).
      const order: string[] = []
      const searching = search(q, 10, undefined, { exact: true }).then(() => order.push('search'))
      await new Promise((r) => setTimeout(r, 5))
      const reading = t.where(t.c.id.eq(17)).collect().then(() => order.push('point'))
      await Promise.all([searching, reading])
      expect(order).toEqual(['point', 'search'])
    } finally {
      Object.assign(exactStepLimits, saved)
    }
  })

  test('knobs are checked and kept: metric, m, efConstruction, efSearch, quantization', async () => {
    await expect(await throwing(t.addEmbeddingIndex('emb', { name: 'bad', m: 1 }))).toThrow(/m must be an integer from 2 to 100/)
    await expect(await throwing(t.addEmbeddingIndex('emb', { name: 'bad', m: 16, efConstruction: 20 }))).toThrow(/at least twice m/)
    await expect(await throwing(t.addEmbeddingIndex('emb', { name: 'bad', metric: 'l2', quantization: 'i8' }))).toThrow(/'cosine' only/)
    await expect(await throwing(t.addEmbeddingIndex('bucket', { name: 'bad' }))).toThrow(/needs embed/)
    const s = await db.createTable('small', { id: 'int', emb: 'array<float32>[24]' })
    await s.insert(vectors.slice(0, 3000).map((emb, id) => ({ id, emb })))
    for (const [name, metric, quantization] of [['l2', 'l2', 'f16'], ['ip', 'ip', 'f32'], ['c8', 'cosine', 'i8']] as const) {
      await s.addEmbeddingIndex('emb', { name, metric, quantization, m: 8, efConstruction: 32, efSearch: 64 })
    }
    expect(s.listIndexes().map((i) => [i.name, i.metric, i.ann])).toEqual([
      ['l2', 'l2', { m: 8, efConstruction: 32, efSearch: 64, quantization: 'f16' }],
      ['ip', 'ip', { m: 8, efConstruction: 32, efSearch: 64, quantization: 'f32' }],
      ['c8', 'cosine', { m: 8, efConstruction: 32, efSearch: 64, quantization: 'i8' }],
    ])
    await settle(db, s)
    for (const idx of ['l2', 'ip', 'c8']) {
      const q = clustered()
      const sim = s.c.emb.similarity({ vector: q }, { idx })
      const approx = (await s.orderBy(sim, 'desc').limit(10).select({ id: s.c.id, score: sim }).collect()).rows
      const exact = (await s.orderBy(s.c.emb.similarity({ vector: q }, { idx, exact: true }), 'desc').limit(10).select({ id: s.c.id, score: sim }).collect()).rows
      // Scores are exact distances either way; the approximate ranking finds (nearly) the same rows.
      expect(approx.filter((r) => exact.some((e) => e.id === r.id)).length).toBeGreaterThanOrEqual(9)
      for (const r of approx) expect(r.score).toBeCloseTo(idx === 'l2' ? -Math.hypot(...vectors[r.id as number]!.map((x, i) => x - q[i]!)) : dot(vectors[r.id as number]!, q), 4)
    }
    // A new row is found at once through every index, quantized ones included (SQL ranks the tail with them).
    const fresh = clustered()
    await s.insert([{ id: 99_999, emb: fresh }])
    for (const idx of ['l2', 'ip', 'c8']) {
      expect((await s.orderBy(s.c.emb.similarity({ vector: fresh }, { idx }), 'desc').limit(1).select({ id: s.c.id }).collect()).rows).toEqual([{ id: 99_999 }])
    }
  })
})

describe('native index on disk', () => {
  test('saved with the version it covers, loaded at open, rebuilt when its note no longer matches the table', async () => {
    const home = tempDir()
    const texts = Array.from({ length: 300 }, (_, i) => `note ${i} about ${['rivers', 'mountains', 'oceans'][i % 3]} and ${i % 7} stones`)
    let db = await Tessera.open({ home })
    let t = await db.createTable('docs', { id: 'int', text: 'string' })
    await t.insert(texts.map((text, id) => ({ id, text })))
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), name: 'lex' })
    await settle(db, t)
    const version = t.version
    await db.close()
    const dir = join(home, 'indexes')
    const files = readdirSync(dir).sort()
    expect(files).toEqual([expect.stringMatching(/^t\d+-lex-c\d+\.usearch$/), expect.stringMatching(/^t\d+-lex-c\d+\.usearch\.json$/)])
    const note = JSON.parse(readFileSync(join(dir, files[1]!), 'utf8'))
    expect(note).toMatchObject({ format: 2, version, settings: { metric: 'cosine', dims: 32, m: 16 }, file: { bytes: statSync(join(dir, files[0]!)).size } })
    const savedAt = statSync(join(dir, files[0]!)).mtimeMs

    // Reopened: the file is loaded as it is (no rebuild, so no new save), and a search works at once.
    db = await Tessera.open({ home })
    t = await db.getTable('docs')
    const top = async () => (await t.orderBy(t.c.text.similarity('rivers stones'), 'desc').limit(3).select({ id: t.c.id }).collect()).rows
    expect(await top()).toHaveLength(3)
    await settle(db, t)
    expect(vectorIndexesOf(db.driver)!.entries(t.id)[0]!.version).toBe(version)
    await db.close()
    expect(statSync(join(dir, files[0]!)).mtimeMs).toBe(savedAt)

    // A note naming a version as it no longer is (reverted and written again): rebuilt at open, answers unchanged.
    writeFileSync(join(dir, files[1]!), JSON.stringify({ ...note, stamp: '2000-01-01 00:00:00+00' }))
    db = await Tessera.open({ home })
    t = await db.getTable('docs')
    const answer = await top()
    await settle(db, t)
    expect(await top()).toEqual(answer)
    expect(JSON.parse(readFileSync(join(dir, files[1]!), 'utf8')).stamp).toBe(note.stamp)
    expect((await db.check()).problems).toEqual([])
    await t.dropEmbeddingIndex('lex')
    expect(existsSync(join(dir, files[0]!))).toBe(false)
    // Dropping a table removes its indexes' files too.
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), name: 'again' })
    await settle(db, t)
    await db.close()
    db = await Tessera.open({ home })
    await db.dropTable('docs')
    await db.close()
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('default quantization', () => {
  test('a cosine index naming none holds f16 vectors, ip and l2 f32; one saved as f32 before that default is loaded as it is until rebuilt', async () => {
    const home = tempDir()
    let db = await Tessera.open({ home })
    let t = await db.createTable('vecs', { id: 'int', emb: 'array<float32>[24]' })
    const rows = Array.from({ length: 2_000 }, (_, id) => ({ id, emb: clustered() }))
    await t.insert(rows)
    await t.addEmbeddingIndex('emb', { name: 'c' })
    await t.addEmbeddingIndex('emb', { name: 'p', metric: 'ip' })
    await t.addEmbeddingIndex('emb', { name: 'd', metric: 'l2' })
    await settle(db, t)
    const graphs = () => Object.fromEntries(vectorIndexesOf(db.driver)!.entries(t.id).map((e) => [e.idx.name, e.native?.settings.quantization]))
    expect(graphs()).toEqual({ c: 'f16', p: 'f32', d: 'f32' })
    // The catalog records no quantization: the default applies when a graph is built.
    expect(t.listIndexes().map((i) => i.ann?.quantization)).toEqual([undefined, undefined, undefined])

    // The cosine index as an earlier release saved it: the same rows in an f32 graph, its note naming f32 (with the
    // file's checksum, which notes carry since; a note without one is rebuilt once: ann-file-check.test.ts).
    const entry = vectorIndexesOf(db.driver)!.entries(t.id).find((e) => e.idx.name === 'c')!
    const file = entry.path!
    const note = JSON.parse(readFileSync(`${file}.json`, 'utf8'))
    const page = await readVectors(db.driver, t.id, entry.idx.valueColumnId, 24, { after: -1, upTo: entry.version }, -1, 10_000)
    expect(page.keys.length).toBe(rows.length)
    await db.close()
    const engine = new Engine(await import('usearch'))
    const f32 = { ...note.settings, quantization: 'f32' }
    engine.handle({ op: 'create', id: 1, settings: f32 })
    engine.handle({ op: 'add', id: 1, keys: page.keys, vectors: page.vectors })
    const saved = engine.handle({ op: 'save', id: 1, path: file }).file
    writeFileSync(`${file}.json`, JSON.stringify({ ...note, settings: f32, file: saved }))
    const savedAt = statSync(file).mtimeMs

    db = await Tessera.open({ home })
    t = await db.getTable('vecs')
    // Recall is averaged over 20 queries: one query's top 10 on a graph built in parallel threads can miss two rows
    // (a CI run met 8 of 10 once), while a graph that served wrong vectors would miss nearly all of them.
    const queries = Array.from({ length: 20 }, () => clustered())
    const exact = (q: number[]) => rows.map((r) => [r.id, dot(r.emb, q)] as const).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([id]) => id)
    const top = async (q = queries[0]!) => (await t.orderBy(t.c.emb.similarity({ vector: q }, { idx: 'c' }), 'desc').limit(10).select({ id: t.c.id }).collect()).rows.map((r) => r.id as number)
    const recall = async () => {
      let hits = 0
      for (const q of queries) {
        const truth = exact(q)
        hits += (await top(q)).filter((id) => truth.includes(id)).length
      }
      return hits / (queries.length * 10)
    }
    await top()
    await settle(db, t)
    // Loaded, not rebuilt: the f32 graph serves (its note still names f32, its file was not written again), and the
    // listing says so.
    expect(graphs().c).toBe('f32')
    expect(t.listIndexes().find((i) => i.name === 'c')!.native).toMatchObject({ state: 'ready', quantization: 'f32' })
    expect(statSync(file).mtimeMs).toBe(savedAt)
    expect(await recall()).toBeGreaterThanOrEqual(0.95)
    expect((await db.check()).problems).toEqual([])
    // A rebuild (after a revert) takes today's default.
    await t.insert([{ id: 5_000, emb: clustered() }])
    await settle(db, t)
    await t.revert()
    await settle(db, t)
    expect(graphs().c).toBe('f16')
    expect(t.listIndexes().find((i) => i.name === 'c')!.native).toMatchObject({ state: 'ready', quantization: 'f16' })
    expect(JSON.parse(readFileSync(`${file}.json`, 'utf8')).settings.quantization).toBe('f16')
    expect(await recall()).toBeGreaterThanOrEqual(0.95)
    await db.close()

    // An index that names its quantization is never served by a graph of another: a saved f16 graph is rebuilt as f32.
    db = await Tessera.open({ home })
    t = await db.getTable('vecs')
    await t.addEmbeddingIndex('emb', { name: 'x', quantization: 'f32' })
    await settle(db, t)
    const x = vectorIndexesOf(db.driver)!.entries(t.id).find((e) => e.idx.name === 'x')!
    const xNote = JSON.parse(readFileSync(`${x.path!}.json`, 'utf8'))
    await db.close()
    writeFileSync(`${x.path!}.json`, JSON.stringify({ ...xNote, settings: { ...xNote.settings, quantization: 'f16' } }))
    db = await Tessera.open({ home })
    t = await db.getTable('vecs')
    await t.orderBy(t.c.emb.similarity({ vector: queries[0]! }, { idx: 'x' }), 'desc').limit(10).select({ id: t.c.id }).collect()
    await settle(db, t)
    expect(graphs().x).toBe('f32')
    expect(JSON.parse(readFileSync(`${x.path!}.json`, 'utf8')).settings.quantization).toBe('f32')
    await db.close()
  })
})

describe('vector index over HTTP', () => {
  test('an index over a column of vectors with knobs; similarity with efSearch and exact in a JSON query', async () => {
    const { createApp } = await import('../../src/server/app.ts')
    const db = await memoryDb()
    try {
      const app = createApp(db)
      const call = jsonCaller(app)
      expect((await call('POST', '/api/v1/tables', { path: 'own', schema: { id: 'int', emb: 'array<float32>[4]' }, primaryKey: 'id' })).status).toBe(201)
      const rows = Array.from({ length: 50 }, (_, id) => ({ id, emb: [Math.cos(id), Math.sin(id), id % 3, 1] }))
      expect((await call('POST', '/api/v1/tables/own/-/rows', { rows })).status).toBe(201)
      const bad = await call('POST', '/api/v1/tables/own/-/indexes', { column: 'emb', m: 1 })
      expect(bad.status).toBe(400)
      const made = await call('POST', '/api/v1/tables/own/-/indexes', { column: 'emb', name: 'e', metric: 'l2', m: 8, efConstruction: 32, quantization: 'f16' })
      expect(made.status).toBe(201)
      const listed = await call('GET', '/api/v1/tables/own/-/indexes')
      expect(listed.body.indexes[0]).toMatchObject({ name: 'e', metric: 'l2', dims: 4, ann: { m: 8, efConstruction: 32, quantization: 'f16' } })
      for (const opts of [{ efSearch: 100 }, { exact: true }]) {
        const sim = { fn: 'similarity', args: [{ col: 'emb' }], opts: { query: { vector: rows[7]!.emb }, ...opts } }
        const r = await call('POST', '/api/v1/query', { table: 'own', orderBy: [{ expr: sim, desc: true }], limit: 3, select: [{ name: 'id', expr: { col: 'id' } }] })
        expect(r.status).toBe(200)
        expect(r.body.rows[0]).toEqual({ id: 7 })
      }
      const wrong = { fn: 'similarity', args: [{ col: 'emb' }], opts: { query: { vector: rows[7]!.emb }, efSearch: -1 } }
      expect((await call('POST', '/api/v1/query', { table: 'own', orderBy: [{ expr: wrong, desc: true }], limit: 3 })).status).toBe(400)
    } finally {
      await db.close()
    }
  })
})
