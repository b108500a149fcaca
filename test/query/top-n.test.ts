import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import '../../src/functions/index.ts'
import type { Query, Table, Tessera } from '../../src/index.ts'

type Row = Record<string, unknown>
import { LATE_VISIBILITY_MAX_HIDDEN, TOP_N_WHOLE_ROWS } from '../../src/query/emit.ts'
import { planQuery } from '../../src/query/planner.ts'
import { memoryDb } from '../support/db.ts'

// A top-N query (order by + a limit of at most TOP_N_WHOLE_ROWS) sorts whole stored rows and computes its outputs
// over the rows kept (src/query/emit.ts, topNFirst). Its answers must be those of ordering every row: checked here
// against the full, unlimited answer sorted the same way, on a table with updated and deleted rows (ended row
// versions the visibility filter must keep out), a big unselected column, ties broken by a second key, and a past
// version. Tables that store an array column keep the projected form.

let db: Tessera
let t: Table
const N = 3000
const big = 'x'.repeat(5000) // stored out of line (TOAST): the sort carries a pointer, no output reads it

beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('top', { id: 'int', score: 'float', name: 'string', note: 'string?' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, score: (i * 7919) % 101, name: `n${(i * 31) % 997}`, note: i % 10 === 0 ? big : null })))
  await t.update({ score: 1000 }, { where: t.c.id.lt(5) }) // the old versions of rows 0-4 scored low; the new ones top
  await t.delete({ where: t.c.id.ge(2990) })
})
afterAll(() => db.close())

/** The unlimited query's rows, sorted by `by` in TypeScript, then offset and limit applied. */
async function expected(q: Query, by: (a: Row, b: Row) => number, offset: number, limit: number): Promise<Row[]> {
  return (await q.collect()).rows.slice().sort(by).slice(offset, offset + limit)
}
const desc = (k: string) => (a: Row, b: Row) => (b[k] as number) - (a[k] as number)
const thenId = (f: (a: Row, b: Row) => number) => (a: Row, b: Row) => f(a, b) || (a.id as number) - (b.id as number)

describe('top-N queries: whole rows sorted, outputs over the rows kept', () => {
  test('the statement takes that form up to TOP_N_WHOLE_ROWS rows, and not past it, nor with grouping or a join', () => {
    expect(planQuery(t.orderBy(t.c.score, 'desc').limit(10).spec).sql).toStartWith('with _hidden as materialized (')
    expect(planQuery(t.orderBy(t.c.score, 'desc').limit(10).spec).sql).toContain(', _top as materialized (select t0.* from ')
    expect(planQuery(t.orderBy(t.c.score, 'desc').limit(TOP_N_WHOLE_ROWS - 10).offset(10).spec).sql).toStartWith('with _hidden')
    expect(planQuery(t.orderBy(t.c.score, 'desc').limit(TOP_N_WHOLE_ROWS).offset(1).spec).sql).toStartWith('select ')
    expect(planQuery(t.orderBy(t.c.score, 'desc').spec).sql).toStartWith('select ')
    expect(planQuery(t.groupBy(t.c.name).select({ name: t.c.name }).orderBy(t.c.name).limit(3).spec).sql).toStartWith('select ')
  })

  test('not for a table that stores an array column (a vector held in the row would be copied with every row)', async () => {
    const v = await db.createTable('top_vec', { id: 'int', score: 'float', emb: 'array<float32>[8]' }, { primaryKey: 'id' })
    await v.insert(Array.from({ length: 50 }, (_, i) => ({ id: i, score: (i * 37) % 50, emb: Array.from({ length: 8 }, (_, d) => (i + d) / 64) })))
    const q = v.orderBy(v.c.score, 'desc').limit(3).select({ id: v.c.id, score: v.c.score })
    expect(planQuery(q.spec).sql).toStartWith('select ')
    expect((await q.collect()).rows.map((r) => r.score)).toEqual([49, 48, 47])
  })

  test('answers equal ordering every row: current version, ended versions left out, ties by a second key', async () => {
    const top = (await t.orderBy(t.c.score, 'desc').orderBy(t.c.id).limit(10).collect()).rows
    expect(top).toEqual(await expected(t.query(), thenId(desc('score')), 0, 10))
    expect(top.slice(0, 5).map((r) => r.id)).toEqual([0, 1, 2, 3, 4])
    expect(top.every((r) => (r.id as number) < 2990)).toBe(true)
    // Offset paging, an ascending string key, a filter, and outputs computed over the kept rows.
    const q = t.where(t.c.score.lt(50)).select({ id: t.c.id, name: t.c.name, twice: t.c.score.mul(2) })
    const page = (await q.orderBy(t.c.name).orderBy(t.c.id).limit(25).offset(40).collect()).rows
    const byName = (a: Row, b: Row) => (a.name as string) < (b.name as string) ? -1 : (a.name as string) > (b.name as string) ? 1 : (a.id as number) - (b.id as number)
    expect(page).toEqual(await expected(q, byName, 40, 25))
    // A sort key that is an expression.
    const neg = (await t.orderBy(t.c.score.mul(-1)).orderBy(t.c.id, 'desc').limit(7).select({ id: t.c.id, score: t.c.score }).collect()).rows
    expect(neg).toEqual(await expected(t.select({ id: t.c.id, score: t.c.score }), (a, b) => (b.score as number) - (a.score as number) || (b.id as number) - (a.id as number), 0, 7))
  })

  test('a big column is read only when an output asks for it; head, tail and past versions answer the same as before', async () => {
    const withNote = (await t.where(t.c.note.isNotNull()).orderBy(t.c.id).limit(3).select({ id: t.c.id, note: t.c.note }).collect()).rows
    expect(withNote).toEqual([0, 10, 20].map((id) => ({ id, note: big })))
    // head and tail: insertion order, as the unlimited query has it.
    const all = (await t.collect()).rows
    expect((await t.query().head(3)).rows).toEqual(all.slice(0, 3))
    expect((await t.query().tail(3)).rows).toEqual(all.slice(-3))
    const past = await db.get(`top:${t.version - 2}`) // before the update and the delete
    const pastTop = (await past.orderBy(past.c.score, 'desc').orderBy(past.c.id).limit(5).collect()).rows
    expect(pastTop).toEqual(await expected(past.query(), thenId(desc('score')), 0, 5))
    expect(pastTop.every((r) => (r.score as number) <= 100)).toBe(true)
  })

  test('visibility checked on the kept rows: uncommitted staged rows and ended versions stay out, below and above the bound', async () => {
    // Rows of a staged write not yet committed (under the next version) and ended versions, all with the top scores:
    // the sort keeps them (limit + the hidden count), the visibility filter after it must drop every one.
    const late = await db.createTable('top_late', { id: 'int', score: 'float' }, { primaryKey: 'id' })
    await late.insert(Array.from({ length: 2000 }, (_, i) => ({ id: i, score: (i * 7919) % 1009 })))
    const data = `tessera_data.t${late.id}`
    const stage = (from: number, n: number) => db.driver.query(
      `insert into ${data} (_v_min, c0, c1) select $1, 100000 + g, 5000 + g from generate_series($2::int, $3::int) g`,
      [late.version + 1, from, from + n - 1])
    const check = async () => {
      for (const [offset, limit] of [[0, 10], [5, 20], [990, 10]] as const) {
        const got = (await late.orderBy(late.c.score, 'desc').orderBy(late.c.id).limit(limit).offset(offset).collect()).rows
        expect(got).toEqual(await expected(late.query(), thenId(desc('score')), offset, limit))
        expect(got.every((r) => (r.id as number) < 2000)).toBe(true)
      }
    }
    await late.update({ score: 4000 }, { where: late.c.id.lt(30) }) // 30 ended versions; the new ones score high and are visible
    await stage(0, 40)
    await check()
    expect((await late.orderBy(late.c.score, 'desc').limit(3).collect()).rows.map((r) => r.score)).toEqual([4000, 4000, 4000])
    // Past the bound: the table's hidden versions outnumber LATE_VISIBILITY_MAX_HIDDEN, and every row is filtered first.
    await stage(40, LATE_VISIBILITY_MAX_HIDDEN + 10)
    await check()
    await db.driver.query(`delete from ${data} where _v_min > $1`, [late.version])
    await late.update({ score: 3000 }, { where: late.c.id.lt(LATE_VISIBILITY_MAX_HIDDEN + 10) })
    await check()
    // A past version reads with its own version filter, not this form.
    const past = await db.get(`top_late:${late.version - 1}`)
    expect(planQuery(past.orderBy(past.c.score, 'desc').limit(10).spec).sql).toStartWith('with _top as materialized (')
    expect((await past.orderBy(past.c.score, 'desc').limit(3).collect()).rows.map((r) => r.score)).toEqual([4000, 4000, 4000])
  })
})
