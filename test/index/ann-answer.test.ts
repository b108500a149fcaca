import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table } from '../../src/index.ts'
import { Tessera } from '../../src/index.ts'
import { vectorIndexesOf } from '../../src/index/index.ts'
import { ColumnCopies, STRING_CHARS_MAX } from '../../src/index/ann/column-copies.ts'
import { memoryDb } from '../support/db.ts'
import { testVectors } from '../support/vectors.ts'
import { annRows, annTable, exactTopIds, traceStatements } from '../support/ann-rows.ts'
import type { AnnRow as Row } from '../support/ann-rows.ts'

setDefaultTimeout(120_000)

// A top-k on the embedded store that returns only columns the native index keeps a copy of is answered from the
// index alone, with no statement (src/index/ann/answer.ts), while the index covers every commit and no write is under
// way. The answers must be those the statement gives for the same candidates, rows must be searchable as soon as
// their write returns, and a deleted row must never come back.

const DIMS = 24
const N = 6_000
const { clustered, dot } = testVectors(41, DIMS)

describe('a top-k answered from the native index and its copy of the returned columns', () => {
  let db: Tessera
  let t: Table
  const rows: Row[] = []
  const entry = () => vectorIndexesOf(db.driver)!.entries(t.id)[0]!
  const settled = () => entry().settled()

  beforeAll(async () => {
    db = await memoryDb()
    rows.push(...annRows(N, clustered))
    t = await annTable(db, 'answers', DIMS, rows)
  })
  afterAll(() => db.close())

  const exactTop = (q: number[], k: number, keep?: (r: Row) => boolean) => exactTopIds(rows, dot, q, k, keep)
  /** The search's result (columns, rows, ids) and the statements over the table's rows it ran. */
  const traced = async (run: () => Promise<{ columns: readonly unknown[]; rows: readonly Record<string, unknown>[] }>) => {
    const { result, statements } = await traceStatements(db, run)
    return { columns: result.columns, rows: result.rows, ids: result.rows.map((x) => x.id as number), statements }
  }
  type Where = ReturnType<typeof t.c.bucket.lt>
  /** The top 10 returning id, tag and score (all copied), or (withSim) the similarity too, which only SQL gives. */
  const search = (q: number[], options: { where?: Where; withSim?: boolean; offset?: number } = {}) => {
    const sim = t.c.emb.similarity({ vector: q })
    let base = options.where ? t.where(options.where) : t.query()
    base = base.orderBy(sim, 'desc')
    if (options.offset) base = base.offset(options.offset)
    const select = options.withSim ? { id: t.c.id, label: t.c.tag, score: t.c.score, sim } : { id: t.c.id, label: t.c.tag, score: t.c.score }
    return traced(() => base.limit(10).select(select).collect())
  }
  const withoutSim = (rs: readonly Record<string, unknown>[]) => rs.map(({ id, label, score }) => ({ id, label, score }))

  test('once the copy is loaded, no statement runs, and the rows and column types are those the statement gives', async () => {
    const cases = [{}, { where: t.c.bucket.lt(700) }, { where: t.c.tag.ne('t2').and(t.c.score.gt(0.3)) }, { offset: 3 }]
    // The first searches ask for the copies (of the returned columns and the filters' bucket) and use the store.
    for (const options of cases) await search(clustered(), options)
    await settled()
    for (const options of cases) {
      for (let i = 0; i < 4; i++) {
        const q = clustered()
        const answered = await search(q, options)
        expect(answered.statements).toHaveLength(0)
        const statement = await search(q, { ...options, withSim: true })
        expect(statement.statements.length).toBeGreaterThanOrEqual(1)
        expect(answered.rows).toEqual(withoutSim(statement.rows))
        expect(answered.columns).toEqual(statement.columns.slice(0, 3))
      }
    }
    const q = clustered()
    const answered = await search(q)
    const truth = exactTop(q, 10)
    expect(answered.ids.filter((id) => truth.includes(id)).length).toBeGreaterThanOrEqual(9)
    // Values as the rows hold them: a null score stays null, strings and numbers as stored.
    for (const r of answered.rows) {
      const row = rows[r.id as number]!
      expect(r).toEqual({ id: row.id, label: row.tag, score: row.score })
    }
  })

  test('a row is found as soon as its insert returns, and a deleted one is gone as soon as its delete returns', async () => {
    const q = clustered()
    const id = 100_000
    await t.insert([{ id, bucket: 1, tag: 'new', score: 0.5, emb: q }])
    rows.push({ id, bucket: 1, tag: 'new', score: 0.5, emb: q })
    // The index has not caught up: the statement ranks the new row exactly.
    const right = await search(q)
    expect(right.ids[0]).toBe(id)
    expect(right.statements.length).toBeGreaterThanOrEqual(1)
    await settled()
    const later = await search(q)
    expect(later.statements).toHaveLength(0)
    expect(later.rows[0]).toEqual({ id, label: 'new', score: 0.5 })

    await t.update({ tag: 'changed' }, { where: t.c.id.eq(id) })
    expect((await search(q)).rows[0]).toEqual({ id, label: 'changed', score: 0.5 })
    await settled()
    const updated = await search(q)
    expect(updated.statements).toHaveLength(0)
    expect(updated.rows[0]).toEqual({ id, label: 'changed', score: 0.5 })

    await t.delete({ where: t.c.id.eq(id) })
    rows.pop()
    expect((await search(q)).ids).not.toContain(id)
    await settled()
    const gone = await search(q)
    expect(gone.ids).not.toContain(id)
    const truth = exactTop(q, 10)
    expect(gone.ids.filter((x) => truth.includes(x)).length).toBeGreaterThanOrEqual(9)
  })

  test('while a write to the table is under way, searches go through the store', async () => {
    await settled()
    const q = clustered()
    expect((await search(q)).statements).toHaveLength(0)
    const batch = Array.from({ length: 2_000 }, (_, i) => ({ id: 200_000 + i, bucket: 5, tag: 'batch', score: 0.1, emb: i === 0 ? q : clustered() }))
    const writing = t.insert(batch)
    const manager = vectorIndexesOf(db.driver)!
    // The insert takes the table's lock once it has checked its rows.
    while (!manager.writing(t.id)) await new Promise((r) => setTimeout(r, 0))
    const during = await search(q)
    expect(during.statements.length).toBeGreaterThanOrEqual(1)
    await writing
    const after = await search(q)
    expect(after.ids[0]).toBe(200_000)
    await t.delete({ where: t.c.bucket.eq(5).and(t.c.tag.eq('batch')) })
  })

  test('time travel, exact: true or a returned expression: the search runs its statement', async () => {
    await settled()
    const q = clustered()
    const sim = t.c.emb.similarity({ vector: q }, { exact: true })
    const exact = await traced(() => t.orderBy(sim, 'desc').limit(10).select({ id: t.c.id }).collect())
    expect(exact.statements.length).toBeGreaterThanOrEqual(1)
    const twice = await traced(() => t.orderBy(t.c.emb.similarity({ vector: q }), 'desc').limit(10).select({ id: t.c.id, b: t.c.bucket.mul(2) }).collect())
    expect(twice.statements.length).toBeGreaterThanOrEqual(1)
    expect(twice.rows.every((r) => r.b === rows.find((x) => x.id === r.id)!.bucket * 2)).toBe(true)
    const old = await db.getTable(`answers:${t.version - 1}`)
    const past = await traced(() => old.orderBy(old.c.emb.similarity({ vector: q }), 'desc').limit(10).select({ id: old.c.id }).collect())
    expect(past.statements.length).toBeGreaterThanOrEqual(1)
  })

  /** A 3,000-row table with a cosine index of that quantization, settled, and its top-10 returning only ids. */
  const quantized = async (quantization: 'f16' | 'i8') => {
    const small = await db.createTable(`answers_${quantization}`, { id: 'int', emb: `array<float32>[${DIMS}]` })
    await small.insert(rows.slice(0, 3_000).map((r) => ({ id: r.id, emb: r.emb })))
    await small.addEmbeddingIndex('emb', { name: 'h', metric: 'cosine', quantization })
    const e = vectorIndexesOf(db.driver)!.entries(small.id)[0]!
    await e.settled()
    const ids = (q: number[]) => traced(() => small.orderBy(small.c.emb.similarity({ vector: q }), 'desc').limit(10).select({ id: small.c.id }).collect())
    return { small, e, ids }
  }

  test('an f16 index is answered alone, in the order its statement gives; the scores returned are exact, in order within f16\'s error', async () => {
    const { small, e, ids } = await quantized('f16')
    expect(e.native!.settings.quantization).toBe('f16')
    const scored = (q: number[]) => traced(() => {
      const sim = small.c.emb.similarity({ vector: q })
      return small.orderBy(sim, 'desc').limit(10).select({ id: small.c.id, sim }).collect()
    })
    await ids(clustered())
    await e.settled()
    const norm = (v: number[]) => Math.sqrt(dot(v, v))
    for (let i = 0; i < 5; i++) {
      const q = clustered()
      const truth = exactTop(q, 10, (x) => x.id < 3_000)
      const alone = await ids(q)
      expect(alone.statements).toHaveLength(0)
      expect(alone.ids.filter((id) => truth.includes(id)).length).toBeGreaterThanOrEqual(9)
      const withSim = await scored(q)
      expect(withSim.statements.length).toBeGreaterThanOrEqual(1)
      expect(withSim.ids).toEqual(alone.ids)
      const sims = withSim.rows.map((r) => r.sim as number)
      for (const [j, r] of withSim.rows.entries()) {
        const emb = rows.find((x) => x.id === r.id)!.emb
        expect(sims[j]!).toBeCloseTo(dot(q, emb) / (norm(q) * norm(emb)), 4)
        // Ordered by f16 distances: an exact score may exceed the one before it by f16's error at most.
        if (j > 0) expect(sims[j]! - sims[j - 1]!).toBeLessThan(2e-4)
      }
    }
  })

  test('an i8 index is not answered alone: its distances are too coarse to pick the rows, so SQL re-ranks every candidate', async () => {
    const { e, ids: run } = await quantized('i8')
    await run(clustered())
    await e.settled()
    const q = clustered()
    const r = await run(q)
    expect(r.statements.length).toBeGreaterThanOrEqual(1)
    const truth = exactTop(q, 10, (x) => x.id < 3_000)
    expect(r.ids.filter((id) => truth.includes(id)).length).toBeGreaterThanOrEqual(9)
  })

  test('a filter\'s columns come first: columns only returned give way to them when the copy is full', () => {
    const copy = new ColumnCopies()
    const [id, bucket, tag, score] = ['id', 'bucket', 'tag', 'score'].map((n) => t.md.columns.find((c) => c.name === n)!)
    expect(copy.want([id!, tag!, score!], 100, 'returned')).toBe(true)
    copy.put([id!.id, tag!.id, score!.id], [0], [[1, 'a', 0.5]])
    copy.reached([id!.id, tag!.id, score!.id], 1)
    // A returned column does not push out what is held: the fourth fits, a fifth would not.
    expect(copy.want([bucket!], 100, 'returned')).toBe(true)
    const emb = { ...bucket!, id: 9_999, name: 'other' }
    expect(copy.want([emb], 100, 'returned')).toBe(false)
    // A filter column gets a slot: a column only returned is let go.
    expect(copy.want([emb], 100, 'filter')).toBe(true)
    const held = [id!, tag!, score!, bucket!].filter((c) => copy.split(1).current.includes(c.id) || copy.split(1).stale.includes(c.id))
    expect(held).toHaveLength(3)
    // The values cap counts rows: four columns of 600,000 rows would pass 2 million values.
    expect(new ColumnCopies().want([id!, tag!, score!, bucket!], 600_000, 'filter')).toBe(false)
  })

  test('a string column of long texts is not copied: searches returning it go through the store', () => {
    const copy = new ColumnCopies()
    const md = t.md
    const tag = md.columns.find((c) => c.name === 'tag')!
    expect(ColumnCopies.columnsReturned([{ expr: t.c.tag.node }], md)).toEqual([tag])
    expect(ColumnCopies.columnsReturned([{ expr: t.c.emb.node }], md)).toBeUndefined()
    expect(copy.want([tag], 100, 'returned')).toBe(true)
    const long = 'x'.repeat(1_000_000)
    const keys = Array.from({ length: Math.ceil(STRING_CHARS_MAX / long.length) + 1 }, (_, i) => i)
    copy.put([tag.id], keys, keys.map(() => [long]))
    copy.reached([tag.id], 1)
    expect(copy.values([tag], [0], 1)).toBeUndefined()
    expect(copy.size).toBe(0)
    // Not loaded again at the next catch-up or rebuild.
    expect(copy.split(2).stale).toEqual([])
    copy.clear()
    expect(copy.split(2).stale).toEqual([])
    const short = new ColumnCopies()
    short.want([tag], 100, 'returned')
    short.put([tag.id], [0, 1], [['a'], [null]])
    short.reached([tag.id], 1)
    expect(short.values([tag], [1, 0], 1)).toEqual([[null, 'a']])
    expect(short.values([tag], [2], 1)).toBeUndefined()
    expect(short.values([tag], [0], 2)).toBeUndefined()
  })
})
