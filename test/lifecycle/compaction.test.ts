import { afterAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { dropCreatedDatabases, freshDatabaseUrl, pgSkipReason } from '../store/pg-support.ts'
import { throwing } from '../support/settle.ts'

// Retention and compaction: row versions no retained version can see are removed, what remains reads exactly as
// before, history stays, and reads or reverts of removed versions are refused by name.

const rowsOf = async (db: Awaited<ReturnType<typeof memoryDb>>, path: string) =>
  (await (await db.getTable(path)).orderBy((await db.getTable(path)).c.id).collect()).rows

test('keepVersions removes unseen row versions; retained versions read as before; removed ones are refused', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('docs', { id: 'int', n: 'int' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 100 }, (_, i) => ({ id: i, n: 0 })))
    for (let round = 1; round <= 5; round++) await t.update({ n: round }, { where: t.c.id.lt(10 * round) })
    expect(t.version).toBe(6)
    const before5 = await rowsOf(db, 'docs:5')
    const before6 = await rowsOf(db, 'docs')
    const history = await t.history()

    const dry = await db.compact({ keepVersions: 2, dryRun: true })
    expect(dry.dryRun).toBe(true)
    const dryDocs = dry.tables.find((x) => x.path === 'docs')!
    expect(dryDocs.rowVersionsRemoved).toBeGreaterThan(0)
    expect((await db.getTable('docs:1')).version).toBe(1) // nothing changed yet

    await db.setRetention({ keepVersions: 2 }, 'docs')
    expect(await db.getRetention('docs')).toEqual({ keepVersions: 2, source: 'table' })
    const r = await db.compact()
    const docs = r.tables.find((x) => x.path === 'docs')!
    expect(docs.oldestVersion).toBe(5)
    // 250 row versions (100 inserted, 10+20+30+40+50 updated); versions 5 and 6 see the 100 current ones and the
    // 50 that version 6 ended.
    expect(docs.rowVersionsRemoved).toBe(dryDocs.rowVersionsRemoved)
    expect(docs.rowVersionsRemoved).toBe(250 - 150)
    expect(await rowsOf(db, 'docs:5')).toEqual(before5)
    expect(await rowsOf(db, 'docs')).toEqual(before6)
    expect(await t.history()).toEqual(history)

    const err = await db.getTable('docs:3').catch((e) => e)
    expect(err.code).toBe('VERSION_NOT_FOUND')
    expect(err.message).toContain("version 3 of table 'docs' was removed by compaction")
    expect(err.message).toContain('oldest retained version is 5')

    // Revert to 5 still works; a second revert (to 4) would need removed rows.
    await t.revert()
    expect(await rowsOf(db, 'docs')).toEqual(before5)
    const rerr = await t.revert().catch((e) => e)
    expect(rerr.message).toContain("cannot revert 'docs' to version 4: compaction removed its rows")
    expect((await db.check()).problems).toEqual([])
    // Compacting again finds nothing more.
    expect((await db.compact({ keepVersions: 2 })).rowVersionsRemoved).toBe(0)
  } finally {
    await db.close()
  }
})

test('snapshots and views keep what they need', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('base', { id: 'int', n: 'int' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 20 }, (_, i) => ({ id: i, n: 0 })))
    await t.update({ n: 1 }, { where: t.c.id.lt(5) }) // v2
    await db.createSnapshot('snap', t)
    const snapRows = (await (await db.getTable('snap')).orderBy((await db.getTable('snap')).c.id).collect()).rows
    const v = await db.createView('big', t, { where: t.c.n.gt(0) })
    for (let i = 3; i <= 6; i++) await t.update({ n: i }, { where: t.c.id.lt(i * 2) })
    const r = await db.compact({ keepVersions: 1 })
    const base = r.tables.find((x) => x.path === 'base')!
    expect(base.oldestVersion).toBe(6)
    expect(base.keptVersions).toEqual([2])
    expect(base.rowVersionsRemoved).toBeGreaterThan(0)
    const snap = await db.getTable('snap')
    expect((await snap.orderBy(snap.c.id).collect()).rows).toEqual(snapRows)
    expect((await db.getTable('base:2')).version).toBe(2)
    expect((await db.getTable('base:4').catch((e) => e)).message).toContain('pinned by snapshots')
    // The view still follows its base after compaction.
    await t.update({ n: 0 }, { where: t.c.id.eq(0) })
    const viewRows = (await v.orderBy(v.c.id).collect()).rows
    const baseRows = (await t.where(t.c.n.gt(0)).orderBy(t.c.id).collect()).rows
    expect(viewRows.map((x) => [x.id, x.n])).toEqual(baseRows.map((x) => [x.id, x.n]))
    expect((await db.check()).problems).toEqual([])
    // Dropping the snapshot lets the next compaction take version 2 too.
    await db.dropTable('snap')
    const r2 = await db.compact({ keepVersions: 1 })
    expect(r2.tables.find((x) => x.path === 'base')!.keptVersions).toEqual([])
    expect((await db.getTable('base:2').catch((e) => e)).code).toBe('VERSION_NOT_FOUND')
  } finally {
    await db.close()
  }
})

test('keepFor keeps recent versions; a dropped column leaves the data table once no retained version has it', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('c', { id: 'int', a: 'string', b: 'string?' })
    await t.insert([{ id: 1, a: 'x', b: 'y' }])
    await t.update({ a: 'z' })
    await db.setRetention({ keepFor: '1h' })
    expect(await db.getRetention('c')).toEqual({ keepSeconds: 3600, source: 'database' })
    expect((await db.compact()).rowVersionsRemoved).toBe(0)
    await t.dropColumn('b')
    expect((await db.compact({ keepVersions: 1, dryRun: true })).tables.find((x) => x.path === 'c')!.columnsDropped).toEqual(['c2'])
    const r = await db.compact({ keepVersions: 1 })
    const c = r.tables.find((x) => x.path === 'c')!
    expect(c.rowVersionsRemoved).toBe(1)
    expect(c.columnsDropped).toEqual(['c2'])
    expect(c.vacuum).toBe('full')
    expect((await t.collect()).rows).toEqual([{ id: 1, a: 'z' }])
    expect((await db.check()).problems).toEqual([])
    await expect(await throwing(db.setRetention({ keepVersions: 0 }, 'c'))).toThrow('keepVersions must be an integer >= 1')
    await expect(await throwing(db.setRetention({ keepFor: 'soon' }))).toThrow("keepFor must be seconds or a duration like '90s'")
    await expect(await throwing(db.compact({ tables: ['nope'] }))).toThrow("compact: table 'nope' does not exist")
  } finally {
    await db.close()
  }
})

// The same compaction on a PostgreSQL server store (batches under advisory locks, VACUUM outside transactions).
const pgSkip = pgSkipReason()
if (pgSkip) console.warn(pgSkip)
afterAll(() => dropCreatedDatabases(), 30_000)
test.skipIf(pgSkip !== undefined)('compaction on the PostgreSQL server store', async () => {
  const db = await Tessera.open({ database: await freshDatabaseUrl(), home: tempDir() })
  try {
    const t = await db.createTable('pg_docs', { id: 'int', n: 'int' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 50 }, (_, i) => ({ id: i, n: 0 })))
    for (let r = 1; r <= 3; r++) await t.update({ n: r }, { where: t.c.id.lt(10 * r) })
    const current = (await t.orderBy(t.c.id).collect()).rows
    const r = await db.compact({ keepVersions: 1, batchSize: 7 })
    expect(r.tables.find((x) => x.path === 'pg_docs')!.rowVersionsRemoved).toBe(60)
    expect(r.dataDirBytesBefore).toBeUndefined()
    expect((await t.orderBy(t.c.id).collect()).rows).toEqual(current)
    expect((await db.getTable('pg_docs:2').catch((e) => e)).message).toContain('oldest retained version is 4')
    expect((await db.check()).problems).toEqual([])
  } finally {
    await db.close()
  }
})
