import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Table, Tessera } from '../../src/index.ts'
import { image } from '../../src/functions/index.ts'
import { resolveMedia } from '../../src/media/index.ts'
import { memoryDb, MODELS_DIR, modelsMissing } from '../support/db.ts'
import { png } from './fixtures.ts'
import { throwing } from '../support/settle.ts'

let db: Tessera
let t: Table
const meta = async (ref: string) => sharp(await resolveMedia(ref, db.media)).metadata()
const photoMissing = modelsMissing('testdata/dog.jpg')
beforeAll(async () => {
  if (photoMissing) return
  db = await memoryDb()
  t = await db.createTable('imgs', { id: 'int', photo: 'image' })
  await t.insert([
    { id: 1, photo: await png(40, 20, '#ff0000', { split: true }) },
    { id: 2, photo: join(MODELS_DIR, 'testdata/dog.jpg') },
    { id: 3, photo: await png(10, 10, '#00ff0080', { alpha: true }) },
  ])
}, 60_000)
afterAll(() => db?.close())

describe.skipIf(!!photoMissing)('image functions', () => {
  test('width, height and mode', async () => {
    const rows = (await t.orderBy('id').select({ w: image.width(t.c.photo), h: image.height(t.c.photo), m: image.mode(t.c.photo) }).collect()).rows
    expect(rows).toEqual([{ w: 40, h: 20, m: 'RGB' }, { w: 768, h: 576, m: 'RGB' }, { w: 10, h: 10, m: 'RGBA' }])
  })

  test('resize, crop, rotate, grayscale and convert make stored images', async () => {
    const r = (await t.where(t.c.id.eq(1)).select({
      small: image.resize(t.c.photo, { width: 20 }),
      left: image.crop(t.c.photo, [0, 0, 20, 20]),
      right: image.crop(t.c.photo, [20, 0, 40, 20]),
      turned: image.rotate(t.c.photo, 90),
      gray: image.grayscale(t.c.photo),
      jpeg: image.convert(t.c.photo, { format: 'jpeg', mode: 'L' }),
    }).collect()).rows[0] as Record<string, string>
    expect(r.small).toMatch(/^media:\/\/[0-9a-f]{64}\.png$/)
    expect(await meta(r.small!)).toMatchObject({ width: 20, height: 10 })
    const left = await sharp(await resolveMedia(r.left!, db.media)).raw().toBuffer()
    const right = await sharp(await resolveMedia(r.right!, db.media)).raw().toBuffer()
    expect([...left.subarray(0, 3)]).toEqual([255, 255, 255]) // split: white left half
    expect([...right.subarray(0, 3)]).toEqual([255, 0, 0])
    const turned = await sharp(await resolveMedia(r.turned!, db.media)).raw().toBuffer({ resolveWithObject: true })
    expect(turned.info).toMatchObject({ width: 20, height: 40 })
    // Counter-clockwise (PIL): the white left half ends up at the bottom.
    const px = (x: number, y: number) => [...turned.data.subarray((y * 20 + x) * turned.info.channels, (y * 20 + x) * turned.info.channels + 3)]
    expect(px(10, 35)).toEqual([255, 255, 255])
    expect(px(10, 5)).toEqual([255, 0, 0])
    expect((await meta(r.gray!)).channels).toBe(1)
    expect(r.jpeg).toMatch(/\.jpg$/)
    expect(await meta(r.jpeg!)).toMatchObject({ format: 'jpeg', channels: 1 })
  })

  test('thumbnail is a WebP data URL no larger than the size', async () => {
    const [row] = (await t.where(t.c.id.eq(2)).select({ th: image.thumbnail(t.c.photo, 64) }).collect()).rows as { th: string }[]
    expect(row!.th.startsWith('data:image/webp;base64,')).toBe(true)
    const m = await sharp(Buffer.from(row!.th.split(',')[1]!, 'base64')).metadata()
    expect(m).toMatchObject({ format: 'webp', width: 64, height: 48 })
  })

  test('computed columns store derived images; bad options fail at definition', async () => {
    await t.addComputedColumn('thumb_w', image.width(image.resize(t.c.photo, { height: 5 })))
    expect((await t.orderBy('id').select('thumb_w').collect()).rows.map((r) => r.thumb_w)).toEqual([10, 7, 5])
    await expect(await throwing(t.select({ x: image.convert(t.c.photo, { format: 'gif' as 'png' }) }).collect())).toThrow(/format must be png, jpeg or webp/)
  })
})
