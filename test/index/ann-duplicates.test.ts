import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import type { Table } from '../../src/index.ts'
import { Tessera } from '../../src/index.ts'
import { rewriteSimilarity, vectorIndexesOf } from '../../src/index/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { testVectors } from '../support/vectors.ts'

setDefaultTimeout(120_000)

// Many rows with exactly the same vector (a default embedding, a copied document, a placeholder): an HNSW graph
// degrades on exact duplicates (their neighbour lists fill with copies of one point): a top-500 for the vector that 500
// of these 4,000 rows share found 192 of them, at any efSearch up to 5,000, top-k near it returned other tied rows from
// query to query, and paging over the ties repeated and skipped rows. Every row whose vector equals the query must be found, a top-k whose answer is the tied
// rows must be those rows, and pages over ties follow one order (distance, then row id), as the exact search's do.

const DIMS = 16
const N = 4000
/** Every GROUP_EVERY-th row holds the shared vector: 500 tied rows spread over the table. */
const GROUP_EVERY = 8
const { rand, clustered } = testVectors(41, DIMS)

const settle = (db: Tessera, t: Table) => Promise.all(vectorIndexesOf(db.driver)!.entries(t.id).map((e) => e.settled()))

type Row = { id: number; bucket: number; emb: number[] }

/** `shared` on every GROUP_EVERY-th row, distinct clustered vectors elsewhere. */
function rowsWith(shared: number[], count: number): Row[] {
  return Array.from({ length: count }, (_, id) => ({ id, bucket: id % 100, emb: id % GROUP_EVERY === 3 ? shared : clustered() }))
}

/** A vector a little off `v` (its nearest rows are the ones holding `v`). */
const near = (v: number[]): number[] => v.map((x) => Math.fround(x + (rand() - 0.5) * 0.01))

interface SearchOptions {
  readonly offset?: number
  readonly exact?: boolean
  readonly maxBucket?: number
  /** Select the id alone: once the index has a copy of it, the index answers without a statement (answer.ts). */
  readonly idOnly?: boolean
}

async function top(t: Table, q: number[], limit: number, opts: SearchOptions = {}): Promise<{ id: number; score: number }[]> {
  const sim = t.c.emb.similarity({ vector: q }, opts.exact ? { exact: true } : {})
  let query = (opts.maxBucket === undefined ? t.query() : t.where(t.c.bucket.lt(opts.maxBucket))).orderBy(sim, 'desc')
  if (opts.offset !== undefined) query = query.offset(opts.offset)
  return (await query.limit(limit).select(opts.idOnly ? { id: t.c.id } : { id: t.c.id, score: sim }).collect()).rows as { id: number; score: number }[]
}
const ids = (rows: { id: number }[]) => rows.map((r) => r.id)

/** The rows in pages of `size` (offset/limit) up to `count`. */
async function pages(t: Table, q: number[], count: number, size: number, opts: SearchOptions = {}): Promise<number[]> {
  const out: number[] = []
  for (let offset = 0; offset < count; offset += size) out.push(...ids(await top(t, q, size, { ...opts, offset })))
  return out
}

/** That the native index, not an exact scan, ranks a search of `limit` rows for `q`. */
async function expectNativePlan(db: Tessera, t: Table, q: number[], limit: number): Promise<void> {
  const spec = await rewriteSimilarity(db.driver, t.orderBy(t.c.emb.similarity({ vector: q }), 'desc').limit(limit).spec)
  expect(JSON.stringify(spec.where ?? null)).toContain('ann_candidates')
}

describe('native index over many identical vectors', () => {
  let db: Tessera
  let t: Table
  const shared = clustered()
  let group: number[]
  beforeAll(async () => {
    db = await memoryDb()
    t = await db.createTable('dups', { id: 'int', bucket: 'int', emb: `array<float32>[${DIMS}]` }, { primaryKey: 'id' })
    const rows = rowsWith(shared, N)
    for (let i = 0; i < N; i += 2000) await t.insert(rows.slice(i, i + 2000))
    group = rows.filter((r) => r.emb === shared).map((r) => r.id)
    expect(group).toHaveLength(N / GROUP_EVERY)
    await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
    await settle(db, t)
    expect(t.listIndexes()[0]!.native).toMatchObject({ state: 'ready', vectors: N })
  })
  afterAll(() => db.close())

  test('a search for the shared vector finds every row holding it, in row order, as exact search does', async () => {
    await expectNativePlan(db, t, shared, group.length)
    const got = await top(t, shared, group.length)
    expect(ids(got)).toEqual(group)
    for (const r of got) expect(r.score).toBeCloseTo(1, 3)
    expect(ids(await top(t, shared, group.length, { exact: true }))).toEqual(group)
  })

  test('top-k near the shared vector is the tied rows, the same k of them in every query', async () => {
    let wrong = 0
    for (let i = 0; i < 20; i++) {
      const q = near(shared)
      for (const k of [10, 100]) {
        const got = ids(await top(t, q, k))
        if (JSON.stringify(got) !== JSON.stringify(group.slice(0, k))) wrong++
      }
    }
    expect(wrong).toBe(0)
  })

  test('pages over the ties neither repeat nor skip rows, and match the exact pages', async () => {
    for (const size of [10, 25, 60]) {
      const paged = await pages(t, shared, group.length, size)
      expect(paged.slice(0, group.length)).toEqual(group)
    }
    // Answered by the index alone (its copy of the id, asked for by the first such search): the same pages.
    await pages(t, shared, 50, 25, { idOnly: true })
    await settle(db, t)
    expect(vectorIndexesOf(db.driver)!.entries(t.id)[0]!.columnCopies.split(t.version).current.length).toBe(1)
    expect(await pages(t, shared, group.length, 25, { idOnly: true })).toEqual(group)
    const exact: number[] = []
    for (let offset = 0; offset < 100; offset += 25) exact.push(...ids(await top(t, shared, 25, { offset, exact: true })))
    expect(exact).toEqual(group.slice(0, 100))
  })

  test('a filtered search over the ties finds the tied rows that pass, in row order', async () => {
    // bucket = id % 100: "bucket < 50" keeps half of the tied rows.
    const passing = group.filter((id) => id % 100 < 50)
    const got = ids(await top(t, shared, 40, { maxBucket: 50 }))
    expect(got).toEqual(passing.slice(0, 40))
    expect(ids(await top(t, shared, 40, { maxBucket: 50, exact: true }))).toEqual(got)
    expect(await pages(t, shared, 120, 30, { maxBucket: 50 })).toEqual(passing.slice(0, 120))
  })

  test('recall on distinct vectors stays as it was (>= 0.95 at k 10)', async () => {
    let hits = 0
    const Q = 20
    for (let i = 0; i < Q; i++) {
      const q = clustered()
      const truth = new Set(ids(await top(t, q, 10, { exact: true })))
      hits += ids(await top(t, q, 10)).filter((id) => truth.has(id)).length
    }
    expect(hits / (Q * 10)).toBeGreaterThanOrEqual(0.95)
  })
})

/** The rows of `t` whose vector is `v` as the table holds them now, by id (the exact search's answer, checked here). */
async function holding(t: Table, v: number[], limit: number): Promise<number[]> {
  const rows = await top(t, v, limit, { exact: true })
  return ids(rows.filter((r) => r.score > 1 - 1e-6))
}

describe('identical vectors under writes', () => {
  test('inserts, updates and deletes move rows in and out of the shared vector; all of them are found, before and after catch-up', async () => {
    const db = await memoryDb()
    try {
      const n = 2400
      const shared = clustered()
      const other = clustered()
      // A second shared vector on every 50th row (not one of the first's).
      const rows = rowsWith(shared, n).map((r) => (r.id % 50 === 7 && r.emb !== shared ? { ...r, emb: other } : r))
      const t = await db.createTable('w', { id: 'int', bucket: 'int', emb: `array<float32>[${DIMS}]` }, { primaryKey: 'id' })
      await t.insert(rows)
      await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
      await settle(db, t)
      const expected = new Set(rows.filter((r) => r.emb === shared).map((r) => r.id))
      /**
       * Every row holding the shared vector found, and no other. In row order once the graph holds them all; before
       * its catch-up, rows written since are ranked by their exact distance beside the f16 graph's (within 1e-4 of
       * exact: plan.ts), so the two sets of ties may interleave.
       */
      const check = async (when: string, ordered: boolean) => {
        const want = [...expected].sort((a, b) => a - b)
        await expectNativePlan(db, t, shared, want.length)
        const got = ids(await top(t, shared, want.length))
        expect({ when, ids: ordered ? got : got.sort((a, b) => a - b) }).toEqual({ when, ids: want })
        expect(await holding(t, shared, want.length + 10)).toEqual(want)
      }
      await check('built', true)
      // The first rows holding it deleted (the group's node must stay for the others), some updated to vectors of
      // their own, other rows updated to it, new rows inserted with it, and every row of the second vector deleted.
      await t.delete({ where: t.c.id.lt(400).and(t.c.id.isin([...expected])) })
      for (const id of [...expected].filter((id) => id < 400)) expected.delete(id)
      const away = [...expected].filter((id) => id % 3 === 0).slice(0, 40)
      for (const id of away) {
        await t.update({ emb: clustered() }, { where: t.c.id.eq(id) })
        expected.delete(id)
      }
      const toward = rows.filter((r) => r.emb !== shared && r.emb !== other && r.id % 8 === 5).slice(0, 30).map((r) => r.id)
      await t.update({ emb: shared }, { where: t.c.id.isin(toward) })
      for (const id of toward) expected.add(id)
      await t.insert(Array.from({ length: 100 }, (_, i) => ({ id: n + i, bucket: i % 100, emb: shared })))
      for (let i = 0; i < 100; i++) expected.add(n + i)
      await t.delete({ where: t.c.id.isin(rows.filter((r) => r.emb === other).map((r) => r.id)) })
      await check('written, before catch-up', false)
      await settle(db, t)
      await check('caught up', true)
      const entry = vectorIndexesOf(db.driver)!.entries(t.id)[0]!
      expect(entry.native!.size).toBe(Number((await t.count())))
      expect(ids(await top(t, other, 5))).toEqual(ids(await top(t, other, 5, { exact: true })))
      expect((await db.check()).problems).toEqual([])
      // All but one row moved away: the last one is still found; then it goes too.
      const last = Math.max(...expected)
      await t.update({ emb: other }, { where: t.c.id.isin([...expected].filter((id) => id !== last)) })
      await settle(db, t)
      expect(ids(await top(t, shared, 1))).toEqual([last])
      expect((await top(t, other, 1))[0]!.score).toBeCloseTo(1, 3)
      await t.delete({ where: t.c.id.eq(last) })
      await settle(db, t)
      expect(await holding(t, shared, 5)).toEqual([])
      expect((await top(t, shared, 3)).every((r) => r.score < 1 - 1e-3)).toBe(true)
      expect(entry.native!.size).toBe(Number(await t.count()))
      expect((await db.check()).problems).toEqual([])
    } finally {
      await db.close()
    }
  })
})

describe('identical vectors on disk', () => {
  test('one node for all of them is saved, loaded at open (not rebuilt) and caught up after a restart', async () => {
    const home = tempDir()
    const n = 3000
    const shared = clustered()
    const rows = rowsWith(shared, n)
    const holders = rows.filter((r) => r.emb === shared).map((r) => r.id)
    let db = await Tessera.open({ home })
    let t = await db.createTable('d', { id: 'int', bucket: 'int', emb: `array<float32>[${DIMS}]` }, { primaryKey: 'id' })
    await t.insert(rows)
    await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
    await settle(db, t)
    const file = vectorIndexesOf(db.driver)!.entries(t.id)[0]!.path!
    await db.close()
    // usearch's file starts with its vectors: their count (u32), then their width. One for all the copies.
    const nodes = () => readFileSync(file).readUInt32LE(0)
    expect(nodes()).toBe(n - holders.length + 1)
    const savedAt = statSync(file).mtimeMs

    db = await Tessera.open({ home })
    t = await db.getTable('d')
    expect(ids(await top(t, shared, holders.length))).toEqual(holders)
    await settle(db, t)
    expect(statSync(file).mtimeMs).toBe(savedAt)
    expect(ids(await top(t, shared, holders.length))).toEqual(holders)
    // Caught up after the restart: new copies join the loaded node (found through the saved hashes), deleted ones leave.
    await t.insert(Array.from({ length: 60 }, (_, i) => ({ id: n + i, bucket: i, emb: shared })))
    await t.delete({ where: t.c.id.isin(holders.slice(0, 20)) })
    const now = [...holders.slice(20), ...Array.from({ length: 60 }, (_, i) => n + i)]
    await settle(db, t)
    expect(vectorIndexesOf(db.driver)!.entries(t.id)[0]!.version).toBe(t.version)
    expect(ids(await top(t, shared, now.length))).toEqual(now)
    await db.close()
    expect(nodes()).toBe(n - holders.length + 1)

    db = await Tessera.open({ home })
    t = await db.getTable('d')
    await settle(db, t)
    expect(ids(await top(t, shared, now.length))).toEqual(now)
    expect(t.listIndexes()[0]!.native).toMatchObject({ state: 'ready', vectors: n - 20 + 60 })
    expect((await db.check()).problems).toEqual([])
    await db.close()
  })
})
