import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Table, Tessera } from '../../src/index.ts'
import { exportQuery, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// exportQuery with media 'copy': refs of the database's media store (media://: uploaded bytes, data: URLs stored
// on insert) were written as they are and counted as mediaNotCopied, so the export could not be imported anywhere
// else; and an export into a folder that does not exist failed only after copying the media, leaving them behind.

let db: Tessera
let photos: Table
let png: Uint8Array
const dir = tempDir('tessera-io-export-media-')
beforeAll(async () => {
  db = await memoryDb()
  png = new Uint8Array(await sharp({ create: { width: 4, height: 3, channels: 3, background: '#f80' } }).png().toBuffer())
  const local = join(dir, 'local.png')
  writeFileSync(local, await sharp({ create: { width: 2, height: 2, channels: 3, background: '#08f' } }).png().toBuffer())
  photos = await db.createTable('photos', { id: 'int', photo: 'image?' })
  await photos.insert([
    { id: 1, photo: png },
    { id: 2, photo: `data:image/png;base64,${Buffer.from(png).toString('base64')}` },
    { id: 3, photo: local },
    { id: 4, photo: null },
  ])
})
afterAll(async () => {
  await db.close()
})

describe('export media copy', () => {
  test('media:// refs are copied like local files, and the export imports back with the same bytes', async () => {
    const stored = (await photos.orderBy('id').collect()).column('photo')
    expect(stored[0]).toStartWith('media://')
    const out = join(dir, 'out')
    mkdirSync(out)
    const r = await exportQuery(photos.orderBy('id'), join(out, 'p.jsonl'), { media: 'copy' })
    expect({ copied: r.mediaCopied, notCopied: r.mediaNotCopied }).toEqual({ copied: 2, notCopied: 0 })
    const cells = readFileSync(join(out, 'p.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).photo)
    // Rows 1 and 2 hold the same bytes, so the same media:// ref: one copy.
    expect(cells[0]).toMatch(/^p_media\/photo\/[0-9a-f]{64}\.png$/)
    expect(cells[1]).toBe(cells[0])
    expect(cells[2]).toBe('p_media/photo/local.png')
    expect(cells[3]).toBeNull()
    expect(new Uint8Array(readFileSync(join(out, cells[0])))).toEqual(new Uint8Array(png))

    const back = await importFile(db, 'photos_back', join(out, 'p.jsonl'), { schema: { photo: 'image?' } })
    expect(back.rowsInserted).toBe(4)
    const t = await db.getTable('photos_back')
    const refs = (await t.orderBy('id').collect()).column('photo') as (string | null)[]
    expect(refs[0]).toBe(join(out, cells[0]))
    expect(refs[3]).toBeNull()
  })

  test('into a folder that does not exist: refused naming the folder, before anything is copied', async () => {
    const target = join(dir, 'missing', 'p.jsonl')
    const e = (await rejection(exportQuery(photos, target, { media: 'copy' }))) as Error & { code?: string }
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toContain(`folder '${join(dir, 'missing')}' does not exist`)
    expect(existsSync(join(dir, 'missing'))).toBe(false)
  })

  test('an export that fails after copying removes the copies it made', async () => {
    const out = join(dir, 'fail')
    mkdirSync(out)
    const gone = join(dir, 'gone.png')
    writeFileSync(gone, png)
    const t = await db.createTable('photos_gone', { id: 'int', photo: 'image' })
    await t.insert([{ id: 1, photo: png }, { id: 2, photo: gone }])
    // The second file disappears after insert: its copy fails once the first one is made.
    await Bun.file(gone).delete()
    const e = (await rejection(exportQuery(t.orderBy('id'), join(out, 'p.jsonl'), { media: 'copy' }))) as Error
    expect(e.message).toContain('gone.png')
    expect(readdirSync(out)).toEqual([])
  })
})
