import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'

// A compaction racing a write of the same table. On the embedded store a big write goes in steps: an update collects
// its rows' addresses (ctids) once and rewrites them step by step, a backfill fills a column no version records until
// its last step, a view's sync applies its base's changes in steps. A compaction between two steps — VACUUM FULL
// rewriting the table, or the "unread" column dropped — made an acknowledged update miss thousands of rows, left a
// view with its rows twice, or failed a backfill with the store's raw error (a 500 over HTTP). A table is compacted
// under its write lock now (src/catalog/compact.ts): the write and the compaction run one after the other. Found by an
// exploratory test; each case ran at several delays, since where the compaction lands in the write decides it.

setDefaultTimeout(180_000)

let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir('tessera-compact-race-') })
})
afterAll(() => db.close())

const N = 20_000
const DELAYS_MS = [0, 5, 10, 20]

test('an update racing a full compaction updates every row it matched', async () => {
  for (const [k, delay] of DELAYS_MS.entries()) {
    const t = await db.createTable(`upd${k}`, { id: 'int', n: 'int' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, n: 0 })))
    await t.update({ n: 1 })
    await t.update({ n: 2 }) // ended versions: something for the compaction to remove
    const update = t.update({ n: 7 })
    await Bun.sleep(delay)
    const [status] = await Promise.all([update, db.compact({ keepVersions: 1, full: true, tables: [`upd${k}`], media: false })])
    expect({ delay, updated: status.numUpdated, sevens: await t.where(t.c.n.eq(7)).count(), rows: await t.count() }).toEqual({ delay, updated: N, sevens: N, rows: N })
  }
  expect((await db.check()).problems).toEqual([])
})

test("a view's sync racing a full compaction of the view and its base keeps one row per base row", async () => {
  for (const [k, delay] of DELAYS_MS.entries()) {
    const t = await db.createTable(`base${k}`, { id: 'int', n: 'int' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, n: 0 })))
    const v = await db.createView(`view${k}`, t, { where: t.c.n.ge(0) })
    await t.update({ n: 1 })
    await t.update({ n: 2 })
    const update = t.update({ n: 3 })
    await Bun.sleep(delay)
    await db.compact({ keepVersions: 1, full: true, tables: [`view${k}`, `base${k}`], media: false })
    expect((await update).numUpdated).toBe(N)
    expect({ delay, view: await v.count(), threes: await v.where(v.c.n.eq(3)).count() }).toEqual({ delay, view: N, threes: N })
  }
})

test('a computed column backfilled while a plain compaction runs keeps its column and every value', async () => {
  for (const [k, delay] of [0, 40, 80, 120].entries()) {
    const t = await db.createTable(`fill${k}`, { id: 'int', s: 'string' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 3 * N }, (_, i) => ({ id: i, s: `x${i}` })))
    await t.update({ s: 'y' }, { where: t.c.id.lt(100) })
    const added = t.addComputedColumn('up', t.c.s.upper().concat(t.c.s.lower())).then((s) => s, (e: Error) => e)
    await Bun.sleep(delay)
    const report = await db.compact({ keepVersions: 1, full: false, tables: [`fill${k}`], media: false })
    const status = await added
    expect(status).not.toBeInstanceOf(Error)
    expect(report.tables[0]!.columnsDropped).toEqual([])
    expect({ delay, nulls: await t.where(t.c.up.isNull()).count() }).toEqual({ delay, nulls: 0 })
  }
  expect((await db.check()).problems).toEqual([])
})
