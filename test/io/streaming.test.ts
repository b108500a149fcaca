import { afterAll, beforeAll, expect, test } from 'bun:test'
import { closeSync, mkdirSync, openSync, utimesSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { exportQuery, importFile } from '../../src/index.ts'
import type { ImportProgress } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Imports stream: batches are staged while the file is still being read, so memory follows the batch size, not
// the file size (the 1M-row case with peak RSS is bench/import.ts); the whole import is one table version. Folders of media import one row per file.

let db: Tessera
const dir = tempDir('tessera-io-stream-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

test('a 40k-row, 6 MB CSV is staged batch by batch while it is read, commits as one version, and exports back streamed', async () => {
  const n = 40_000
  const pad = 'x'.repeat(120)
  const file = join(dir, 'big.csv')
  const fd = openSync(file, 'w')
  writeSync(fd, 'id,name,score\n')
  let buf = ''
  for (let i = 0; i < n; i++) {
    buf += `${i},row ${i} ${pad},${i / 4}\n`
    if (buf.length > 1 << 16) {
      writeSync(fd, buf)
      buf = ''
    }
  }
  writeSync(fd, buf)
  closeSync(fd)
  const seen: ImportProgress[] = []
  const r = await importFile(db, 'big', file, { batchSize: 5000, onProgress: (p) => void seen.push(p) })
  expect(r.rowsInserted).toBe(n)
  expect(r.versions.length).toBe(1)
  expect(seen.length).toBe(9) // 8 staged batches, then the commit
  // The first batch was staged when only part of the file had been read (the next batch is converted meanwhile).
  expect(seen[0]!.rowsRead).toBeLessThanOrEqual(10_000)
  expect(seen[0]!.bytesRead).toBeLessThan(seen[0]!.totalBytes!)
  expect(seen.at(-1)!.bytesRead).toBe(seen.at(-1)!.totalBytes!)
  expect(seen.at(-1)!.rowsInserted).toBe(n)
  const t = await db.getTable('big')
  expect((await t.history()).map((h) => [h.kind, h.inserted])).toEqual([['insert', n], ['create', 0]])
  expect(await t.count()).toBe(n)
  expect((await t.where(t.c.id.eq(34321)).collect()).rows).toEqual([{ id: 34321, name: `row 34321 ${pad}`, score: 34321 / 4 }])

  const pages: number[] = []
  const ex = await exportQuery(t, join(dir, 'big.parquet'), { batchSize: 20_000, onProgress: (p) => void pages.push(p.rows) })
  expect(ex.rows).toBe(n)
  expect(pages).toEqual([20_000, 40_000])
}, 60_000)

test('a folder of media files: one row per file, glob, media type by extension', async () => {
  const root = join(dir, 'photos')
  mkdirSync(join(root, 'sub'), { recursive: true })
  writeFileSync(join(root, 'a.jpg'), 'x')
  writeFileSync(join(root, 'sub', 'b.PNG'), 'yy')
  writeFileSync(join(root, 'notes.txt'), 'zzz')
  writeFileSync(join(root, 'data.bin'), '0')
  utimesSync(join(root, 'a.jpg'), new Date('2024-05-06T07:08:09Z'), new Date('2024-05-06T07:08:09Z'))
  const all = await importFile(db, 'files', root, { createTable: true })
  expect(all.schema).toEqual({ path: 'string', name: 'string', size: 'int', mtime: 'timestamp', mediaType: 'string?' })
  const rows = (await (await db.getTable('files')).orderBy('name').collect()).rows
  expect(rows.map((r) => [r.name, r.size, r.mediaType])).toEqual([['a.jpg', 1, 'image'], ['notes.txt', 3, 'document'], ['sub/b.PNG', 2, 'image']])
  expect(rows[0]!.path).toBe(join(root, 'a.jpg'))
  expect(rows[0]!.mtime).toEqual(new Date('2024-05-06T07:08:09Z'))

  // Only images: the path column becomes an image column (validated on write, so these must be real images).
  const imgs = join(dir, 'imgs')
  mkdirSync(imgs)
  const sharp = (await import('sharp')).default
  await sharp({ create: { width: 1, height: 1, channels: 3, background: 'red' } }).png().toFile(join(imgs, 'one.png'))
  writeFileSync(join(imgs, 'skip.txt'), 'not an image')
  const only = await importFile(db, 'images', imgs, { glob: '**/*.{png,jpg}' })
  expect(only.schema.path).toBe('image')
  expect(only.rowsInserted).toBe(1)
})
