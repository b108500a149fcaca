import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/errors.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// An image cut short (an interrupted copy or upload) passed the write check, which read only sharp's metadata (the
// header), and failed later in every computed column. It is refused at write now, naming row and column.

let db: Tessera
const dir = tempDir('trunc-img')
const photo = () => sharp({ create: { width: 320, height: 240, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
beforeAll(async () => { db = await memoryDb() }, 60_000)
afterAll(async () => { await db.close() })

async function files(format: 'jpeg' | 'png' | 'gif' | 'webp'): Promise<{ whole: string; cut: string }> {
  const bytes = await photo()[format]().toBuffer()
  const whole = join(dir, `whole.${format}`)
  const cut = join(dir, `cut.${format}`)
  writeFileSync(whole, bytes)
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)))
  return { whole, cut }
}

test('a truncated JPEG, PNG, GIF or WebP is refused at write, naming row and column', async () => {
  const t = await db.createTable('photos', { id: 'int', photo: 'image' })
  for (const format of ['jpeg', 'png', 'gif', 'webp'] as const) {
    const { whole, cut } = await files(format)
    const e = await t.insert([{ id: 1, photo: whole }, { id: 2, photo: cut }]).then(() => undefined, (x: unknown) => x)
    expect(e).toBeInstanceOf(TesseraError)
    expect((e as TesseraError).code).toBe('INVALID_MEDIA')
    expect((e as TesseraError).details).toMatchObject({ row: 1, column: 'photo' })
    expect((e as TesseraError).message).toStartWith(`row 1, column 'photo': ${cut} is not a valid image`)
    // The same bytes uploaded directly are refused too.
    const up = await t.insert([{ id: 3, photo: new Uint8Array(await Bun.file(cut).arrayBuffer()) }]).then(() => undefined, (x: unknown) => x)
    expect((up as TesseraError).code).toBe('INVALID_MEDIA')
    await t.insert([{ id: 4, photo: whole }])
  }
  expect(await t.count()).toBe(4)
})

test('a whole JPEG with bytes after its end marker is decoded and taken; on_read still skips the check', async () => {
  const bytes = await photo().jpeg().toBuffer()
  const trailer = join(dir, 'trailer.jpg')
  writeFileSync(trailer, Buffer.concat([bytes, Buffer.from('SEFT trailer data a camera appends')]))
  const t = await db.createTable('more', { id: 'int', photo: 'image' })
  await t.insert([{ id: 1, photo: trailer }])
  const { cut } = await files('jpeg')
  const lazy = await db.createTable('lazy_trunc', { id: 'int', photo: 'image' }, { mediaValidation: 'on_read' })
  await lazy.insert([{ id: 1, photo: cut }])
  expect(await lazy.count()).toBe(1)
})
