import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/index.ts'
import type { Driver } from '../../src/store/index.ts'
import { memoryDb } from '../support/db.ts'

// stream() over one table in insertion order pages after the last row's _rowid (its statements carry no OFFSET, so
// a page reads the rows after it instead of sorting all the rows before it). It must return exactly what collect()
// returns at the same version, in the same order, through deletes (gaps in _rowid), updates (rows written anew
// elsewhere in the table, keeping their _rowid), filters in SQL and in TypeScript, limits, and past versions.

let db: Tessera
const statements: string[] = []

beforeAll(async () => {
  db = await memoryDb()
  const driver = db.driver as Driver
  const query = driver.query.bind(driver)
  driver.query = ((sql: string, params?: readonly unknown[], options?: object) => {
    if (sql.includes('tessera_data.')) statements.push(sql)
    return query(sql, params, options)
  }) as Driver['query']
})
afterAll(async () => {
  await db.close()
})

const collectStream = async (it: AsyncIterable<Record<string, unknown>>) => {
  const out: Record<string, unknown>[] = []
  for await (const r of it) out.push(r)
  return out
}

test('pages by _rowid return what collect() returns, through deletes, updates and past versions, with no OFFSET', async () => {
  const t = await db.createTable('keyset', { id: 'int', tag: 'string', n: 'float' })
  await t.insert(Array.from({ length: 5000 }, (_, i) => ({ id: i, tag: i % 3 === 0 ? 'a' : 'b', n: i / 7 })))
  await t.where(t.c.id.lt(2000).and(t.c.id.ge(1500))).delete()
  await t.where(t.c.id.lt(300)).update({ tag: 'moved' })
  const past = t.version
  await t.insert(Array.from({ length: 700 }, (_, i) => ({ id: 10_000 + i, tag: 'a', n: 0 })))
  await t.where(t.c.id.ge(4000)).update({ n: -1 })

  const cases = [
    { what: 'whole table', q: t.query() },
    { what: 'a filter and outputs', q: t.where(t.c.tag.ne('b')).select({ id: t.c.id, twice: t.c.n.mul(2) }) },
    { what: 'a limit', q: t.query().limit(2345) },
  ]
  for (const batchSize of [7, 333, 1000, 100_000]) {
    for (const { what, q } of batchSize === 7 ? cases.slice(1, 2) : cases) {
      statements.length = 0
      const streamed = await collectStream(q.stream({ batchSize }))
      expect({ what, batchSize, rows: streamed }).toEqual({ what, batchSize, rows: [...(await q.collect()).rows] })
      expect(statements.filter((s) => /\boffset\b/i.test(s))).toEqual([])
    }
  }
  const old = await db.getTable(`keyset:${past}`)
  const streamedOld = await collectStream(old.query().stream({ batchSize: 777 }))
  expect(streamedOld).toEqual([...(await old.collect()).rows])
  expect(streamedOld.filter((r) => (r.id as number) >= 10_000)).toEqual([])
  expect(streamedOld).toHaveLength(4500)
})

test('a filter in TypeScript (a UDF) pages the same way and loses no row between pages', async () => {
  const t = await db.createTable('keyset_ts', { id: 'int' })
  await t.insert(Array.from({ length: 3000 }, (_, i) => ({ id: i })))
  const odd = udf({ name: 'test_keyset_odd', returns: 'bool', params: ['int'], fn: (n: number) => n % 2 === 1 })
  const q = t.where(odd(t.c.id))
  const streamed = await collectStream(q.stream({ batchSize: 250 }))
  expect(streamed.map((r) => r.id)).toEqual(Array.from({ length: 1500 }, (_, i) => 2 * i + 1))
})

test('ordered, joined and offset queries still page by offset, with the same rows as collect()', async () => {
  const t = await db.createTable('keyset_other', { id: 'int', g: 'int' })
  await t.insert(Array.from({ length: 1200 }, (_, i) => ({ id: i, g: i % 5 })))
  const u = await db.createTable('keyset_right', { g: 'int', label: 'string' })
  await u.insert(Array.from({ length: 5 }, (_, g) => ({ g, label: `g${g}` })))
  for (const q of [
    t.orderBy(t.c.g).orderBy(t.c.id, 'desc').select({ id: t.c.id, g: t.c.g }),
    t.join(u, { on: t.c.g.eq(u.c.g) }).orderBy(t.c.id).select({ id: t.c.id, label: u.c.label }),
    t.query().offset(100).limit(700),
  ]) {
    statements.length = 0
    expect(await collectStream(q.stream({ batchSize: 300 }))).toEqual([...(await q.collect()).rows])
    expect(statements.some((s) => /\boffset\b/i.test(s))).toBe(true)
  }
})
