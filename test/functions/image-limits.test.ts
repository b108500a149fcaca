import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import sharp from 'sharp'
import type { Table, Tessera } from '../../src/index.ts'
import { image } from '../../src/functions/index.ts'
import { MAX_OUTPUT_PIXELS, MAX_OUTPUT_SIDE, resizedSize, rotatedSize } from '../../src/functions/image.ts'
import { resolveMedia } from '../../src/media/index.ts'
import { memoryDb } from '../support/db.ts'
import { png } from '../media/fixtures.ts'
import { throwing } from '../support/settle.ts'

// Image functions whose output size the caller picks are bounded: at most MAX_OUTPUT_SIDE px per side and
// MAX_OUTPUT_PIXELS in all, unless the result is no larger than its source. Before, a 20000x20000 resize of a 1x1
// image took 25.8 s of CPU per row from a read-only query.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('imgs', { id: 'int', photo: 'image' })
  await t.insert([{ id: 1, photo: await png(1, 1) }, { id: 2, photo: await png(16000, 1) }])
}, 60_000)
afterAll(() => db?.close())

const one = (id: number, e: ReturnType<typeof image.resize>) => t.where(t.c.id.eq(id)).select({ x: e }).collect()
const within = async (ms: number, f: () => Promise<void>) => {
  const t0 = performance.now()
  await f()
  expect(performance.now() - t0).toBeLessThan(ms)
}

describe('image output size limits', () => {
  test('the limits', () => {
    expect(MAX_OUTPUT_SIDE).toBe(16384)
    expect(MAX_OUTPUT_PIXELS).toBe(50_000_000)
  })

  test('a resize past the limits is refused at once, naming the function and the limit', async () => {
    await within(5_000, async () => {
      await expect(await throwing(one(1, image.resize(t.c.photo, { width: 20000, height: 20000 })))).toThrow(/image_resize\(\) would make a 20000x20000 image from a 1x1 one: over the limit of 16384 pixels per side/)
      await expect(await throwing(one(1, image.resize(t.c.photo, { width: 8000, height: 8000 })))).toThrow(/image_resize\(\) would make a 8000x8000 image .*over the limit of 50,000,000 pixels/)
      // One side given: the other follows the aspect ratio, so it is checked against the real image.
      await expect(await throwing(one(1, image.resize(t.c.photo, { width: 20000 })))).toThrow(/20000x20000 image .*16384 pixels per side/)
      await expect(await throwing(one(2, image.resize(t.c.photo, { height: 100 })))).toThrow(/1600000x100 image .*16384 pixels per side/)
      // fit 'outside' grows to cover the box.
      await expect(await throwing(one(2, image.resize(t.c.photo, { width: 100, height: 100, fit: 'outside' })))).toThrow(/1600000x100 image/)
    })
  })

  test('bad sizes are refused when the query is built', async () => {
    await expect(await throwing(one(1, image.resize(t.c.photo, { width: -5 })))).toThrow(/image_resize\(\) width must be a positive whole number of pixels, got -5/)
    await expect(await throwing(one(1, image.resize(t.c.photo, { width: 1.5 })))).toThrow(/width must be a positive whole number/)
    await expect(await throwing(one(1, image.resize(t.c.photo, { width: 10, fit: 'stretch' as 'fill' })))).toThrow(/fit must be one of/)
    await expect(await throwing(one(1, image.thumbnail(t.c.photo, 0)))).toThrow(/image_thumbnail\(\) size must be a positive whole number/)
  })

  test('sizes within the limits, or no larger than the source, still work', async () => {
    const ref = (await one(1, image.resize(t.c.photo, { width: 64, height: 32 }))).rows[0]!.x as string
    expect(await sharp(await resolveMedia(ref, db.media)).metadata()).toMatchObject({ width: 64, height: 32 })
    // Shrinking the 16000x1 strip keeps its aspect ratio; turning it by a right angle is as large as the source.
    const small = (await one(2, image.resize(t.c.photo, { width: 1600 }))).rows[0]!.x as string
    expect(await sharp(await resolveMedia(small, db.media)).metadata()).toMatchObject({ width: 1600, height: 1 })
    const turned = (await one(2, image.rotate(t.c.photo, 90))).rows[0]!.x as string
    expect(await sharp(await resolveMedia(turned, db.media)).metadata()).toMatchObject({ width: 1, height: 16000 })
  })

  test('a rotation whose canvas grows past the limits is refused', async () => {
    await expect(await throwing(one(2, image.rotate(t.c.photo, 45)))).toThrow(/image_rotate\(\) would make a 11315x11315 image from a 16000x1 one: over the limit of 50,000,000 pixels/)
    expect((await one(1, image.rotate(t.c.photo, 45))).rows[0]!.x).toMatch(/^media:\/\//)
  })

  test('output sizes as sharp makes them', () => {
    expect(resizedSize({ width: 40, height: 20 }, 10, undefined, 'inside')).toEqual({ width: 10, height: 5 })
    expect(resizedSize({ width: 40, height: 20 }, undefined, 10, 'inside')).toEqual({ width: 20, height: 10 })
    expect(resizedSize({ width: 40, height: 20 }, 10, 10, 'fill')).toEqual({ width: 10, height: 10 })
    expect(resizedSize({ width: 40, height: 20 }, 10, 10, 'inside')).toEqual({ width: 10, height: 5 })
    expect(resizedSize({ width: 40, height: 20 }, 10, 10, 'outside')).toEqual({ width: 20, height: 10 })
    expect(rotatedSize(40, 20, 90)).toEqual({ width: 20, height: 40 })
    expect(rotatedSize(40, 20, -180)).toEqual({ width: 40, height: 20 })
    expect(rotatedSize(10, 10, 45)).toEqual({ width: 15, height: 15 })
  })
})
