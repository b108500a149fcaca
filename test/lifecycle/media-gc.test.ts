import { expect, test } from 'bun:test'
import { utimesSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { image, Tessera } from '../../src/index.ts'
import { MediaStore } from '../../src/media/index.ts'
import { runCli } from '../support/cli.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// Media garbage collection: a stored file goes once no remaining row version refers to it — after a drop, a revert,
// a failed insert, or deleting rows and compacting — and never while a write may still be about to commit it.

const base = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0af' } }).png().toBuffer()
/** Distinct PNG files: bytes after IEND are ignored by decoders but change the content address. */
const png = (i: number) => new Uint8Array(Buffer.concat([base, Buffer.from(`#${i}`)]))

async function storeFiles(db: Tessera): Promise<string[]> {
  const refs: string[] = []
  for await (const o of db.media.store.list()) refs.push(o.ref)
  return refs
}

test('failed inserts, reverts and deleted rows plus compaction leave no files behind; recent ones are spared', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('pics', { id: 'int', img: 'image?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, img: png(1) }, { id: 2, img: png(2) }])
    // A failed insert: the bytes were stored before the duplicate key rejected the row.
    await expect(await throwing(t.insert([{ id: 1, img: png(3) }]))).toThrow()
    expect((await storeFiles(db)).length).toBe(3)
    const dry = await db.gc({ dryRun: true })
    expect(dry).toMatchObject({ files: 3, orphans: 0, recent: 1, deleted: 0 }) // within the grace period
    expect((await db.gc({ graceSeconds: 0, dryRun: true })).orphans).toBe(1)
    expect((await storeFiles(db)).length).toBe(3)
    expect((await db.gc({ graceSeconds: 0 })).deleted).toBe(1)

    // A reverted version's file goes.
    await t.insert([{ id: 4, img: png(4) }])
    await t.revert()
    expect((await db.gc({ graceSeconds: 0 })).deleted).toBe(1)

    // Deleted rows keep their files while an older version can still see them; compaction to the last version frees them.
    await t.where(t.c.id.eq(2)).delete()
    expect((await db.gc({ graceSeconds: 0 })).deleted).toBe(0)
    const r = await db.compact({ keepVersions: 1, graceSeconds: 0 })
    expect(r.media!.deleted).toBe(1)
    const left = await storeFiles(db)
    expect(left).toEqual([(await t.collect()).rows[0]!.img as string])

    // Storing bytes that are already there renews them: an old orphan written again is not collected under a new row.
    const store = db.media.store as MediaStore
    const ref = await store.put(png(9), 'png')
    const file = await store.path(ref)
    utimesSync(file, new Date(Date.now() - 7200_000), new Date(Date.now() - 7200_000))
    expect((await db.gc({ dryRun: true })).orphans).toBe(1)
    await store.put(png(9), 'png')
    expect((await db.gc()).deleted).toBe(0)
    const c = await db.check()
    expect(c.problems).toEqual([])
    expect(c.media.missing).toEqual([])
  } finally {
    await db.close()
  }
})

test('a computed media column with a folder destination writes there; its files are collected after a drop', async () => {
  const db = await memoryDb()
  const dest = tempDir('tessera-dest-')
  try {
    const t = await db.createTable('d', { id: 'int', img: 'image' })
    await t.insert([{ id: 1, img: png(1) }, { id: 2, img: png(2) }])
    await t.addComputedColumn('small', image.resize(t.c.img, { width: 2, height: 2 }), { destination: dest })
    const destStore = new MediaStore(dest)
    const inDest = async () => { const out: string[] = []; for await (const o of destStore.list()) out.push(o.ref); return out }
    const refs = (await t.orderBy(t.c.id).collect()).rows.map((r) => r.small as string)
    expect((await inDest()).sort()).toEqual([...new Set(refs)].sort())
    expect((await storeFiles(db)).length).toBe(2) // only the uploads are in the database's store
    expect((await db.check()).media).toMatchObject({ orphans: 0, missing: [] })
    await db.dropTable('d')
    const r = await db.gc({ graceSeconds: 0 })
    expect(r.deleted).toBe(2 + new Set(refs).size)
    expect(await inDest()).toEqual([])
  } finally {
    await db.close()
  }
})

test('a file rows still refer to but the store lost is a check problem', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('m', { id: 'int', img: 'image' })
    await t.insert([{ id: 1, img: png(1) }])
    const ref = (await t.collect()).rows[0]!.img as string
    await db.media.store.delete(ref)
    const c = await db.check()
    expect(c.media.missing).toEqual([ref])
    expect(c.problems).toContainEqual({ table: '(media)', problem: `${ref} is referenced by rows but missing from the media store` })
  } finally {
    await db.close()
  }
})

test('dropping a table with 1,000 media files: tessera gc removes them all, tessera check finds 0 orphans', async () => {
  const home = join(tempDir(), 'data')
  const db = await Tessera.open({ home })
  try {
    await db.createDir('media_gc')
    const t = await db.createTable('media_gc/frames', { id: 'int', img: 'image' }, { mediaValidation: 'on_read' })
    const kept = await db.createTable('keep', { id: 'int', img: 'image' }, { mediaValidation: 'on_read' })
    for (let start = 0; start < 1000; start += 250) await t.insert(Array.from({ length: 250 }, (_, k) => ({ id: start + k, img: png(start + k) })))
    await kept.insert([{ id: 0, img: png(5000) }])
    expect((await storeFiles(db)).length).toBe(1001)
    await db.dropDir('media_gc', { force: true })
  } finally {
    await db.close()
  }
  const before = await runCli('check', '--home', home)
  expect(before.code).toBe(0)
  expect(before.stdout).toContain('media: 1001 files, 0 orphans')
  expect(before.stdout).toContain('1000 unreferenced files younger than an hour')
  const dry = await runCli('gc', '--home', home, '--grace', '0', '--dry-run')
  expect(dry.stdout.split('\n').filter((l) => l.startsWith('would delete media://')).length).toBe(1000)
  expect(dry.stdout).toContain('1000 unreferenced (0.1 MB) would be deleted')
  const gc = await runCli('gc', '--home', home, '--grace', '0')
  expect(gc.stdout).toContain('1000 deleted')
  const after = await runCli('check', '--home', home)
  expect(after.code).toBe(0)
  expect(after.stdout).toContain('media: 1 files, 0 orphans')
  expect(after.stdout).not.toContain('younger than')
  expect(after.stdout).toContain('ok: 1 tables consistent')
  const db2 = await Tessera.open({ home })
  try {
    expect((await storeFiles(db2)).length).toBe(1)
    const k = await db2.getTable('keep')
    expect(await db2.media.store.exists((await k.collect()).rows[0]!.img as string)).toBe(true)
  } finally {
    await db2.close()
  }
})
