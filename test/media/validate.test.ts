import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { checkMediaFile, resolveMedia, validateMediaValue } from '../../src/media/index.ts'
import { memoryDb, MODELS_DIR, modelsMissing, tempDir } from '../support/db.ts'
import { pdf, png, tones } from './fixtures.ts'
import { throwing, rejection } from '../support/settle.ts'

let db: Tessera
const dir = tempDir()
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name)
  writeFileSync(p, bytes)
  return p
}
let served = 0
const server = Bun.serve({
  hostname: '127.0.0.1', port: 0,
  async fetch(req) {
    served++
    if (new URL(req.url).pathname === '/red.png') return new Response(Buffer.from(await png(5, 3)))
    return new Response('not an image')
  },
})
beforeAll(async () => { db = await memoryDb() }, 60_000)
afterAll(async () => { await db.close(); server.stop(true) })

describe('media columns on insert', () => {
  test.skipIf(!!modelsMissing('testdata/dog.jpg'))('bytes are stored as media:// refs, paths become absolute, URLs are fetched once into the cache', async () => {
    const t = await db.createTable('photos', { id: 'int', photo: 'image?' })
    const bytes = await png(8, 6)
    const url = `http://127.0.0.1:${server.port}/red.png`
    await t.insert([
      { id: 1, photo: bytes },
      { id: 2, photo: `file://${join(MODELS_DIR, 'testdata/dog.jpg')}` },
      { id: 3, photo: url },
      { id: 4, photo: `data:image/png;base64,${Buffer.from(bytes).toString('base64')}` },
      { id: 5, photo: null },
    ])
    const rows = (await t.orderBy('id').collect()).rows as { photo: string | null }[]
    expect(rows[0]!.photo).toMatch(/^media:\/\/[0-9a-f]{64}\.png$/)
    expect(rows[3]!.photo).toBe(rows[0]!.photo) // same bytes, same ref
    expect(rows[1]!.photo).toBe(join(MODELS_DIR, 'testdata/dog.jpg'))
    expect(rows[2]!.photo).toBe(url)
    expect(rows[4]!.photo).toBeNull()
    expect(existsSync(await resolveMedia(rows[0]!.photo!, db.media))).toBe(true)
    const before = served
    expect((await checkMediaFile('image', await resolveMedia(url, db.media))).width).toBe(5)
    expect(served).toBe(before) // cached by the insert's validation
  })

  test("on_write rejects undecodable files, naming row and column; nothing is written", async () => {
    const t = await db.createTable('strict', { id: 'int', photo: 'image' })
    const junk = file('junk.jpg', 'definitely not a jpeg')
    await expect(await rejection(t.insert([{ id: 1, photo: await png(2, 2) }, { id: 2, photo: junk }]))).toMatchObject({
      code: 'INVALID_MEDIA', message: expect.stringMatching(/^row 1, column 'photo': .*junk\.jpg is not a valid image/), details: { row: 1, column: 'photo' },
    })
    await expect(await throwing(t.insert([{ id: 3, photo: join(dir, 'absent.png') }]))).toThrow(/row 0, column 'photo': media file .*absent\.png does not exist/)
    await expect(await throwing(t.insert([{ id: 4, photo: `http://127.0.0.1:${server.port}/text.png` }]))).toThrow(/row 0, column 'photo'.*not a valid image/)
    expect(await t.count()).toBe(0)
  })

  test('update with a literal media value is stored and checked like an insert', async () => {
    const t = await db.createTable('upd', { id: 'int', photo: 'image?' })
    await t.insert([{ id: 1, photo: null }])
    await t.update({ photo: await png(3, 3, '#00ff00') }, { where: t.c.id.eq(1) })
    const [row] = (await t.collect()).rows
    expect(String(row!.photo)).toStartWith('media://')
    const junk = file('junk3.jpg', 'nope')
    await expect(await rejection(t.update({ photo: junk }))).toMatchObject({ code: 'INVALID_MEDIA' })
    expect((await t.collect()).rows[0]!.photo).toBe(row!.photo)
  })

  test("on_read stores the reference without opening the file", async () => {
    const t = await db.createTable('lazy', { id: 'int', photo: 'image' }, { mediaValidation: 'on_read' })
    const junk = file('junk2.jpg', 'still not a jpeg')
    await t.insert([{ id: 1, photo: junk }, { id: 2, photo: join(dir, 'not-there.png') }])
    expect((await t.orderBy('id').collect()).rows.map((r) => r.photo)).toEqual([junk, join(dir, 'not-there.png')])
  })

  test('audio, video and document columns check their formats', async () => {
    const t = await db.createTable('mixed', { id: 'int', a: 'audio?', v: 'video?', d: 'document?' })
    const mp4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 0, 0, 0, 0, 0, 0])
    await t.insert([
      { id: 1, a: tones([{ hz: 440, sec: 0.2 }]), d: pdf([['hello']]) },
      { id: 2, d: file('notes.md', '# Title\n\nSome text.') },
      { id: 3, d: new TextEncoder().encode('<html><body><p>x</p></body></html>') },
    ])
    const rows = (await t.orderBy('id').collect()).rows
    expect(rows[0]!.a).toMatch(/\.wav$/)
    expect(rows[0]!.d).toMatch(/\.pdf$/)
    expect(rows[2]!.d).toMatch(/\.html$/)
    await expect(await throwing(t.insert([{ id: 9, a: await png(2, 2) }]))).toThrow(/column 'a'.*not a valid audio.*looks like image\/png/)
    await expect(await throwing(t.insert([{ id: 9, d: await png(2, 2) }]))).toThrow(/column 'd'.*not a valid document/)
    await expect(await throwing(t.insert([{ id: 9, d: file('broken.pdf', '%PDF-1.4\ngarbage') }]))).toThrow(/column 'd'.*unpdf cannot read/)
    await expect(await throwing(t.insert([{ id: 9, v: file('x.mp4', 'nope') }]))).toThrow(/column 'v'.*not a recognised video container/)
    if (!Bun.which('ffprobe')) {
      await t.insert([{ id: 10, v: mp4 }]) // a container header is all that can be checked without ffprobe
      expect(await t.where(t.c.id.eq(10)).count()).toBe(1)
    }
  })

  test('validateMediaValue reports durations and page counts through checkMediaFile', async () => {
    const wav = file('two.wav', tones([{ hz: 300, sec: 1.5 }, { hz: 0, sec: 0.5 }]))
    expect((await checkMediaFile('audio', wav)).durationSec).toBeCloseTo(2, 6)
    expect((await checkMediaFile('document', file('three.pdf', pdf([['a'], ['b'], ['c']])))).pages).toBe(3)
    const ref = await validateMediaValue('document', 'relative-does-not-matter.txt', { env: db.media, mode: 'on_read' })
    expect(ref).toBe(join(process.cwd(), 'relative-does-not-matter.txt'))
    await expect(await throwing(validateMediaValue('image', 42, { env: db.media, row: 7, column: 'p' }))).toThrow(/^row 7, column 'p': expected an image reference/)
  })
})
