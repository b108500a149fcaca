import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { collectRows, getIterator, listIterators, sentences, splitByBudget, tokenCounter } from '../../src/iterators/index.ts'
import { MODELS_DIR, modelsMissing, tempDir } from '../support/db.ts'
import { pdf } from '../media/fixtures.ts'
import { throwing } from '../support/settle.ts'

const dir = tempDir()
const file = (name: string, body: string | Uint8Array) => {
  const p = join(dir, name)
  writeFileSync(p, body)
  return p
}
const split = (input: unknown, args: Record<string, unknown>) => collectRows(getIterator('document_splitter').run(input, args))
const MD = `# Guide\n\nIntro paragraph one. It has two sentences.\n\n## Setup\n\nInstall it.\n\nConfigure it.\n\n## Use\n\nRun it daily.\n`

describe('registry', () => {
  test('built-in iterators are registered with their output columns', () => {
    expect(listIterators()).toEqual(expect.arrayContaining(['audio_splitter', 'document_splitter', 'frame_iterator', 'string_splitter', 'tile_iterator']))
    expect(getIterator('document_splitter').outputs).toEqual({ text: 'string', title: 'string?', heading: 'json?', page: 'int?' })
    expect(() => getIterator('nope')).toThrow(/unknown iterator 'nope'/)
  })
})

describe('document_splitter', () => {
  test('markdown by heading keeps the heading path and title', async () => {
    const rows = await split(file('g.md', MD), { separators: 'heading' })
    expect(rows.map((r) => [r.pos, r.text, r.heading])).toEqual([
      [0, 'Intro paragraph one. It has two sentences.', { h1: 'Guide' }],
      [1, 'Install it.\n\nConfigure it.', { h1: 'Guide', h2: 'Setup' }],
      [2, 'Run it daily.', { h1: 'Guide', h2: 'Use' }],
    ])
    expect(rows.every((r) => r.title === 'Guide' && r.page === null)).toBe(true)
  })

  test('paragraph and sentence separators; no separator gives one chunk', async () => {
    const p = file('g2.md', MD)
    expect((await split(p, { separators: 'paragraph' })).map((r) => r.text)).toEqual(['Intro paragraph one. It has two sentences.', 'Install it.', 'Configure it.', 'Run it daily.'])
    expect((await split(p, { separators: ['sentence'] })).map((r) => r.text).slice(0, 2)).toEqual(['Intro paragraph one.', 'It has two sentences.'])
    expect((await split(p, {})).length).toBe(1)
  })

  test('HTML via htmlparser2: headings, paragraphs, scripts skipped, <title> as title', async () => {
    const html = '<html><head><title>Doc T</title><script>var x=1</script></head><body><h1>Top</h1><p>First &amp; one.</p><h2>Sub</h2><p>Second</p><p>Third</p></body></html>'
    const rows = await split(file('d.html', html), { separators: 'heading' })
    expect(rows.map((r) => [r.text, r.heading, r.title])).toEqual([
      ['First & one.', { h1: 'Top' }, 'Doc T'],
      ['Second\n\nThird', { h1: 'Top', h2: 'Sub' }, 'Doc T'],
    ])
  })

  test('PDF via unpdf gives page numbers', async () => {
    const p = file('p.pdf', pdf([['Page one text here'], ['Second page words', 'more words']]))
    const rows = await split(p, { separators: 'page' })
    expect(rows.map((r) => [r.page, r.text])).toEqual([[1, 'Page one text here'], [2, 'Second page words\nmore words']])
  })

  test('a limit alone: each piece has the heading (and PDF page) of the block it starts in, not the first one', async () => {
    // Without 'heading' (or 'page') the document is one unit cut by the limit: every piece got the document's first
    // heading (and page), a piece entirely under '## Use' said h1 Guide only.
    const rows = await split(file('lim.md', MD), { separators: 'char_limit', limit: 30 })
    expect(rows.map((r) => [r.text, r.heading])).toEqual([
      ['Intro paragraph one. It has', { h1: 'Guide' }],
      ['two sentences.\n\nInstall it.', { h1: 'Guide' }],
      ['Configure it.\n\nRun it daily.', { h1: 'Guide', h2: 'Setup' }],
    ])
    const byWords = await split(file('lim2.md', MD), { separators: 'token_limit', limit: 2 })
    expect(byWords.at(-1)).toMatchObject({ text: 'it daily.', heading: { h1: 'Guide', h2: 'Use' } })
    const pages = await split(file('lim.pdf', pdf([['Page one text here'], ['Second page words', 'more words']])), { separators: 'char_limit', limit: 20 })
    expect(pages.map((r) => [r.page, r.text])).toEqual([[1, 'Page one text here'], [2, 'Second page words'], [2, 'more words']])
  })

  test('char_limit with overlap stays within the limit and repeats the tail', async () => {
    const text = 'alpha beta gamma delta epsilon zeta eta theta iota kappa'
    const rows = await split(file('c.txt', text), { separators: 'char_limit', limit: 20, overlap: 6 })
    for (const r of rows) expect((r.text as string).length).toBeLessThanOrEqual(20)
    expect(rows.map((r) => r.text)).toEqual(['alpha beta gamma', 'gamma delta epsilon', 'zeta eta theta iota', 'iota kappa']) // 'epsilon' (7) exceeds the 6-char overlap
    expect(splitByBudget('abcdefghij', 4, 0, (s) => s.length)).toEqual(['abcd', 'efgh', 'ij'])
  })

  test.skipIf(!!modelsMissing('bert-uncased-tokenizer/tokenizer.json'))('token_limit counts with a real tokenizer.json, else whitespace words', async () => {
    const tokDir = join(MODELS_DIR, 'bert-uncased-tokenizer')
    const counter = await tokenCounter(tokDir)
    expect(counter.count('Hello offline world!')).toBe(5)
    const text = 'unbelievably unbelievably unbelievably unbelievably'
    const bert = await split(file('t.txt', text), { separators: 'token_limit', limit: 10, tokenizer: tokDir })
    expect(bert.map((r) => r.text)).toEqual(['unbelievably unbelievably', 'unbelievably unbelievably'])
    for (const r of bert) expect(counter.count(r.text as string)).toBeLessThanOrEqual(10)
    const words = await split(file('t2.txt', text), { separators: 'token_limit', limit: 3 })
    expect(words.map((r) => r.text)).toEqual(['unbelievably unbelievably unbelievably', 'unbelievably'])
  })

  test('bad options are refused by name', async () => {
    await expect(await throwing(split(file('x.txt', 'x'), { separators: 'chapter' }))).toThrow(/unknown separator 'chapter'/)
    await expect(await throwing(split(file('y.txt', 'x'), { separators: 'char_limit' }))).toThrow(/need a positive limit/)
  })
})

describe('string_splitter', () => {
  test('sentences and paragraphs', async () => {
    const s = 'Dr. Smith arrived. He said "hi!" Then left.\n\nNew para here.'
    const run = (sep: string) => collectRows(getIterator('string_splitter').run(s, { separators: sep }))
    expect((await run('sentence')).map((r) => r.text)).toEqual(['Dr. Smith arrived.', 'He said "hi!"', 'Then left.', 'New para here.'])
    expect((await run('paragraph')).map((r) => [r.pos, r.text])).toEqual([[0, 'Dr. Smith arrived. He said "hi!" Then left.'], [1, 'New para here.']])
    expect(sentences('Version 2.5 is out. Yes.')).toEqual(['Version 2.5 is out.', 'Yes.'])
  })
})
