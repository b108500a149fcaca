import { expect, test } from 'bun:test'
import { join } from 'node:path'
import sharp from 'sharp'
import { Tessera } from '../../src/index.ts'
import { runCli } from '../support/cli.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A dry run reports what the real run would do and changes nothing: the media files the compaction itself would
// orphan count (it said "0 media files would be deleted", then the run deleted 2), and `--save --dry-run` stores no
// policy. The CLI's wrong usage exits 2 quoting what was given, a table that does not exist is a failure (1).

const base = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f80' } }).png().toBuffer()
const png = (i: number) => new Uint8Array(Buffer.concat([base, Buffer.from(`#${i}`)]))

test('the dry run counts the media files of the row versions and columns the compaction would remove', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('pics', { id: 'int', img: 'image?', thumb: 'image?' }, { primaryKey: 'id' })
    await t.insert([1, 2, 3, 4].map((id) => ({ id, img: png(id), thumb: png(100 + id) })))
    await t.where(t.c.id.le(2)).delete() // rows 1 and 2 (img and thumb): only version 1 sees them
    await t.where(t.c.id.eq(3)).update({ img: png(33) }) // row 3's old img: only versions 1 and 2 see it
    await t.dropColumn('thumb') // thumbs of rows 3 and 4: only versions before the drop have the column
    const dry = await db.compact({ keepVersions: 1, graceSeconds: 0, dryRun: true })
    expect(dry.media).toMatchObject({ orphans: 7, deleted: 0, dryRun: true })
    expect(dry.tables[0]!.columnsDropped.length).toBeGreaterThan(0) // thumb's values (and its error columns)
    // Nothing changed: a second dry run says the same, and the old versions still read.
    expect((await db.compact({ keepVersions: 1, graceSeconds: 0, dryRun: true })).media!.orphans).toBe(7)
    expect(await (await db.getTable('pics:1')).count()).toBe(4)

    const real = await db.compact({ keepVersions: 1, graceSeconds: 0 })
    expect(real.media!.deleted).toBe(dry.media!.orphans)
    expect([...real.media!.orphanRefs].sort()).toEqual([...dry.media!.orphanRefs].sort())
    expect((await db.compact({ keepVersions: 1, graceSeconds: 0, dryRun: true })).media!.orphans).toBe(0)
  } finally {
    await db.close()
  }
})

test('a dry run of some tables counts only what compacting those would orphan', async () => {
  const db = await memoryDb()
  try {
    for (const path of ['a', 'b']) {
      const t = await db.createTable(path, { id: 'int', img: 'image' })
      await t.insert([{ id: 1, img: png(path === 'a' ? 1 : 2) }])
      await t.delete()
    }
    const dry = await db.compact({ keepVersions: 1, graceSeconds: 0, dryRun: true, tables: ['a'] })
    expect(dry.media!.orphans).toBe(1)
    expect((await db.compact({ keepVersions: 1, graceSeconds: 0, tables: ['a'] })).media!.deleted).toBe(1)
  } finally {
    await db.close()
  }
})

async function homeWithMedia(): Promise<string> {
  const home = join(tempDir(), 'data')
  const db = await Tessera.open({ home })
  try {
    await db.createDir('app')
    const t = await db.createTable('app/pics', { id: 'int', img: 'image' })
    await t.insert([{ id: 1, img: png(1) }, { id: 2, img: png(2) }, { id: 3, img: png(3) }])
    await t.where(t.c.id.le(2)).delete()
  } finally {
    await db.close()
  }
  return home
}

test('tessera compact --dry-run: the files the real run deletes; --save with --dry-run saves nothing', async () => {
  const home = await homeWithMedia()
  const dry = await runCli('compact', '--home', home, '--keep-versions', '1', '--grace', '0', '--save', '--dry-run')
  expect(dry.stderr).toBe('')
  expect(dry.code).toBe(0)
  expect(dry.stdout).toContain('2 media files')
  expect(dry.stdout).toContain('would be deleted')
  expect(dry.stdout).toContain('would be saved')
  expect(dry.stdout).not.toContain('retention saved')
  const db = await Tessera.open({ home })
  try {
    expect(await db.getRetention()).toEqual({ source: 'none' })
    expect(await (await db.getTable('app/pics:1')).count()).toBe(3)
  } finally {
    await db.close()
  }
  const real = await runCli('compact', '--home', home, '--keep-versions', '1', '--grace', '0')
  expect(real.code).toBe(0)
  expect(real.stdout).toContain('2 media files deleted')
}, 120_000)

test('tessera compact: wrong usage exits 2 quoting the input; a table that does not exist fails (1)', async () => {
  const home = await homeWithMedia()
  const bad = await runCli('compact', '--home', home, '--keep-versions', 'abc')
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain(`--keep-versions must be an integer >= 1`)
  expect(bad.stderr).toContain(`got 'abc'`)
  expect(bad.stderr).not.toContain('NaN')
  for (const [flag, value] of [['--keep-versions', '0'], ['--keep-versions', '1.5'], ['--keep-for', 'soon'], ['--grace', '-1'], ['--grace', 'x']] as const) {
    const r = await runCli('compact', '--home', home, `${flag}=${value}`)
    expect({ flag, value, code: r.code }).toEqual({ flag, value, code: 2 })
    expect(r.stderr).toContain(`'${value}'`)
  }
  const missing = await runCli('compact', '--home', home, '--table', 'app/nope')
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain(`table 'app/nope' does not exist`)
  // Nothing was compacted by the refused runs.
  const db = await Tessera.open({ home })
  try {
    expect(await (await db.getTable('app/pics:1')).count()).toBe(3)
  } finally {
    await db.close()
  }
}, 120_000)
