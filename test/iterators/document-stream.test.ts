import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { collectRows, getIterator, parseDocument } from '../../src/iterators/index.ts'
import { streamDocument } from '../../src/iterators/document-parse.ts'
import { groupBlocks, groupBlockStream } from '../../src/iterators/document-splitter.ts'
import type { Separator } from '../../src/iterators/index.ts'
import { tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// document_splitter reads text, Markdown and HTML as a stream: the same blocks and chunks as parsing the whole file,
// across read boundaries (files larger than one read), and memory bounded by what the caller keeps.

const dir = tempDir()

function markdown(sections: number): string {
  const out: string[] = ['Preface text before any heading.', '', '# The Title', '']
  for (let s = 0; s < sections; s++) {
    out.push(`## Section ${s}`, '', `Paragraph one of section ${s}. It has two sentences! Dr. Who stays in one.`, '', '```', `code ${s}`, '', 'more code', '```', '', `Last words of ${s}.`, '')
  }
  return out.join('\n')
}

describe('streamed documents', () => {
  test('Markdown, HTML and text: the same blocks as the whole-file parse, across read boundaries', async () => {
    const md = join(dir, 'big.md')
    writeFileSync(md, markdown(4000)) // ~600 KB: several reads
    const html = join(dir, 'big.html')
    writeFileSync(html, `<html><head><title>T &amp; more</title><script>x</script></head><body>${Array.from({ length: 5000 }, (_, i) => `<h2>H ${i}</h2><p>para ${i} <b>bold</b></p><ul><li>a${i}</li><li>b</li></ul>`).join('')}</body></html>`)
    const txt = join(dir, 'big.txt')
    writeFileSync(txt, Array.from({ length: 20000 }, (_, i) => `# not a heading ${i}\nline two ${i}\n\n`).join(''))
    for (const f of [md, html, txt]) {
      const whole = await parseDocument(f)
      const s = await streamDocument(f)
      expect(s.format).toBe(whole.format)
      expect(s.title).toBe(whole.title)
      const blocks = []
      for await (const b of s.blocks) blocks.push(b)
      expect(blocks).toEqual([...whole.blocks])
      for (const seps of [['heading'], ['paragraph'], ['sentence'], []] as Separator[][]) {
        const units = []
        const again = await streamDocument(f)
        for await (const u of groupBlockStream(again.blocks, new Set(seps))) units.push(u)
        expect(units).toEqual(groupBlocks(whole.blocks, new Set(seps)))
      }
    }
    expect((await streamDocument(md)).title).toBe('The Title')
  })

  test('invalid UTF-8 after the first read is still refused, naming the file', async () => {
    const bad = join(dir, 'bad.txt')
    const fd = openSync(bad, 'w')
    writeSync(fd, 'a'.repeat(600_000))
    writeSync(fd, new Uint8Array([0xff, 0xfe, 0x00, 0x41]))
    closeSync(fd)
    await expect(await throwing(collectRows(getIterator('document_splitter').run(bad, { separators: 'paragraph' })))).toThrow(/bad\.txt is neither a PDF nor UTF-8 text/)
  })

  test('memory stays bounded: a 60 MB Markdown file split by heading within 80 MB of RSS growth', async () => {
    const big = join(dir, 'huge.md')
    const fd = openSync(big, 'w')
    const section = markdown(1)
    let bytes = 0
    for (let i = 0; bytes < 60 * 2 ** 20; i++) bytes += writeSync(fd, section.replace('Section 0', `Section ${i}`))
    closeSync(fd)
    // In a fresh process: the measurement is the iterator's, not what this test process did before.
    const r = spawnSync(process.execPath, [join(import.meta.dir, 'memory-child.ts'), 'document_splitter', big, JSON.stringify({ separators: 'heading,char_limit', limit: 400 })], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    const { rows: chunks, growthMb } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rows: number; growthMb: number }
    console.log(`document chunks ${chunks}, peak RSS growth ${growthMb.toFixed(1)} MB`)
    expect(chunks).toBeGreaterThan(300_000)
    // Parsed whole, the file's bytes, its text (UTF-16) and its blocks alone are ~3x its size.
    expect(growthMb).toBeLessThan(80)
  }, 240_000)
})
