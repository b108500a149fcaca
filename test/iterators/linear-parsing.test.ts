import { describe, expect, test } from 'bun:test'
import { atxHeading, parseMarkdown } from '../../src/iterators/document-parse.ts'
import { sentences } from '../../src/iterators/text.ts'

// Markdown headings and sentence ends are found by scanning, not by backtracking regexes: inputs that took seconds
// to forever with the old regexes (measured: '# a' + 3,000 spaces + 'a' 12.6 s, 10,000 never finished; 400,000 dots
// then 'x' ~500 s; 20,000 'Mr. ' 4.9 s) are answered here at sizes well past those, with the same answers as the
// regexes give on ordinary text (checked against them on many small random lines).

const OLD_HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/
const oldHeading = (line: string) => {
  const m = OLD_HEADING.exec(line)
  return m ? { level: m[1]!.length, text: m[2]! } : undefined
}
const OLD_ABBREV = /\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|Fig|No)\.$/i
function oldSentences(text: string): string[] {
  const out: string[] = []
  const re = /[.!?]+["')\]]*(?=\s+|$)/g
  let start = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = m.index + m[0].length
    const candidate = text.slice(start, end)
    if (OLD_ABBREV.test(candidate) || /(^|\s)[A-Z]\.$/.test(candidate)) continue
    if (candidate.trim()) out.push(candidate.trim())
    start = end
  }
  const rest = text.slice(start).trim()
  if (rest) out.push(rest)
  return out
}

function randomStrings(pieces: string[], count: number, maxLen: number, prefix?: () => string): string[] {
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const out: string[] = []
  for (let k = 0; k < count; k++) {
    let s = prefix && rnd() < 0.5 ? prefix().repeat(1 + Math.floor(rnd() * 7)) : ''
    const len = Math.floor(rnd() * maxLen)
    for (let j = 0; j < len; j++) s += pieces[Math.floor(rnd() * pieces.length)]
    out.push(s)
  }
  return out
}

const within = (ms: number, f: () => void) => {
  const t0 = performance.now()
  f()
  expect(performance.now() - t0).toBeLessThan(ms)
}

describe('markdown headings', () => {
  test('the same headings as the old regex on ordinary and odd lines', () => {
    for (const line of ['# Title', '## Setup ##', '###   Spaced   #  ', '####### seven', '#nospace', '#', '# ', '# #', '#\tTab', '# a # b #', '# x\ry', '# x\r', '  # indented', '###### six', '# Title#'])
      expect([line, atxHeading(line)]).toEqual([line, oldHeading(line)])
    for (const line of randomStrings(['#', '#', ' ', ' ', '\t', 'a', 'b', '\r', '\u2028', '\u00a0', '\v'], 50_000, 14, () => '#'))
      expect([line, atxHeading(line)]).toEqual([line, oldHeading(line)])
  })

  test('a heading line of many spaces between words is parsed at once', () => {
    const spaces = ' '.repeat(200_000)
    within(2_000, () => {
      expect(atxHeading(`# a${spaces}a`)).toEqual({ level: 1, text: `a${spaces}a` })
      expect(atxHeading(`# a${spaces}#${spaces}a ##  `)).toEqual({ level: 1, text: `a${spaces}#${spaces}a` })
      const doc = parseMarkdown(Array.from({ length: 20 }, () => `## a${' '.repeat(10_000)}a\n\ntext`).join('\n'))
      expect(doc.blocks.length).toBe(20)
      expect(doc.blocks[0]!.heading).toEqual({ h2: `a${' '.repeat(10_000)}a` })
    })
  })
})

describe('sentences', () => {
  test('the same splits as the old regex', () => {
    const text = 'Mr. Smith went to Washington. He said "Hi!" Then he left... Did he? Yes (really). See Fig. 3 e.g. here. J. R. R. Tolkien wrote.'
    expect(sentences(text)).toEqual(oldSentences(text))
    for (const s of randomStrings(['.', '.', '!', '?', '"', "'", ')', ']', ' ', ' ', '\n', 'a', 'A', 'Mr', 'Dr', 'Prof', 'e.g', 'i.e', 'No', 'st', '\u00a0'], 50_000, 25))
      expect([s, sentences(s)]).toEqual([s, oldSentences(s)])
  })

  test('long runs of punctuation and of abbreviations are split at once', () => {
    within(2_000, () => {
      expect(sentences(`${'.'.repeat(1_000_000)}x`)).toEqual([`${'.'.repeat(1_000_000)}x`])
      expect(sentences(`a${'.'.repeat(1_000_000)} b`)).toEqual([`a${'.'.repeat(1_000_000)}`, 'b'])
      expect(sentences(`${'?!.)'.repeat(250_000)}x`).length).toBe(1)
      expect(sentences('Mr. '.repeat(200_000))).toEqual(['Mr. '.repeat(200_000).trim()])
      expect(sentences('A. '.repeat(200_000))).toEqual(['A. '.repeat(200_000).trim()])
    })
  })
})
