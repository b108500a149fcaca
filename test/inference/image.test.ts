import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { call, embedders } from '../../src/index.ts'
import { imageEmbed, preprocessImage } from '../../src/inference/image.ts'
import { memoryDb, MODELS_DIR, modelsMissing } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

setDefaultTimeout(60_000)

const MOBILENET = join(MODELS_DIR, 'mobilenetv2/mobilenetv2-12-int8.onnx')
const PHOTO_NAMES = ['dog', 'eagle', 'giraffe', 'horses', 'person', 'kite', 'scream']
const missing = modelsMissing('mobilenetv2/mobilenetv2-12-int8.onnx', 'imagenet/labels.json', ...PHOTO_NAMES.map((n) => `testdata/${n}.jpg`))
const LABELS: string[] = missing ? [] : JSON.parse(readFileSync(join(MODELS_DIR, 'imagenet/labels.json'), 'utf8'))
const PHOTOS = PHOTO_NAMES.map((n) => join(MODELS_DIR, 'testdata', `${n}.jpg`))
const argmax = (v: readonly number[]) => v.indexOf(Math.max(...v))

describe.skipIf(!!missing)('image embedder', () => {
  test('preprocessing: size, layout and ImageNet normalisation', async () => {
    const { data, width, height } = await preprocessImage(PHOTOS[0], { size: [32, 16], layout: 'nhwc' })
    expect([width, height, data.length]).toEqual([32, 16, 32 * 16 * 3])
    const max = (1 - 0.406) / 0.225 // the blue channel's white
    expect(Math.max(...data)).toBeLessThanOrEqual(max + 1e-5)
  })

  test('mobilenetv2 logits: dog.jpg is a malamute/husky, eagle.jpg a bald eagle', async () => {
    const [dog, eagle] = await imageEmbed(MOBILENET, PHOTOS.slice(0, 2), { normalize: false })
    expect(dog!.length).toBe(1000)
    expect(LABELS[argmax(dog!)]).toMatch(/malamute|husky/i)
    expect(LABELS[argmax(eagle!)]).toMatch(/bald eagle/i)
  })

  describe('as an embedding index on an image column', () => {
    let db: Tessera
    beforeAll(async () => {
      db = await memoryDb()
    })
    afterAll(() => db.close())

    test('embed_image indexes photos; a query photo finds itself first', async () => {
      const t = await db.createTable('photos', { name: 'string', photo: 'image' })
      await t.insert(PHOTOS.map((p) => ({ name: p.split('/').at(-1)!.replace('.jpg', ''), photo: p })))
      await t.addEmbeddingIndex('photo', { embed: embedders.image(MOBILENET), metric: 'cosine' })
      expect(t.listIndexes()[0]).toMatchObject({ column: 'photo', dims: 1000 })
      const sim = t.c.photo.similarity({ image: PHOTOS[1] })
      const rows = (await t.orderBy(sim, 'desc').limit(3).select({ name: t.c.name, score: sim }).collect()).rows
      expect(rows[0]).toMatchObject({ name: 'eagle' })
      expect(rows[0]!.score as number).toBeCloseTo(1, 4)
      await expect(await rejection(t.select(t.c.photo.similarity('a dog')).collect())).toMatchObject({ code: 'INVALID_ARGUMENT' })
    })

    test('uploaded image bytes (stored as media:// refs) are embedded and searchable', async () => {
      const t = await db.createTable('uploads', { name: 'string', photo: 'image' })
      await t.addEmbeddingIndex('photo', { embed: embedders.image(MOBILENET), metric: 'cosine' })
      await t.insert(PHOTOS.slice(0, 3).map((p) => ({ name: p.split('/').at(-1)!.replace('.jpg', ''), photo: new Uint8Array(readFileSync(p)) })))
      const stored = (await t.select('photo').collect()).column('photo') as string[]
      expect(stored.every((r) => r.startsWith('media://'))).toBe(true)
      const sim = t.c.photo.similarity({ image: PHOTOS[2] })
      const rows = (await t.orderBy(sim, 'desc').limit(1).select({ name: t.c.name, score: sim }).collect()).rows
      expect(rows[0]).toMatchObject({ name: 'giraffe' })
    })

    test('embed_image as a computed column (array<float32>[1000])', async () => {
      const t = await db.createTable('photos2', { photo: 'image' })
      await t.insert([{ photo: PHOTOS[0] }])
      await t.addComputedColumn('logits', call('embed_image', [t.c.photo], { model: MOBILENET, dims: 1000, normalize: false }))
      expect(t.schema().logits).toBe('array<float32>[1000]?')
      const [row] = (await t.select('logits').collect()).rows
      expect(LABELS[argmax(row!.logits as number[])]).toMatch(/malamute|husky/i)
    })
  })
})
