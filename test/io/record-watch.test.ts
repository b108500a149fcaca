import { expect, test } from 'bun:test'
import { recordWatch } from '../../src/io/index.ts'

// The watch an HTTP upload's spool runs (src/server/upload-spool.ts): it must stop the spool at a record past the
// limit, fed in any pieces, and never at one within it (a false alarm would fail a valid import).

const feedAll = (format: string, text: string, pieces: number[], max = 100) => {
  const w = recordWatch(format, max)!
  let at = 0
  for (const n of [...pieces, Infinity]) {
    if (at >= text.length) break
    if (w.feed(text.slice(at, at + n))) return true
    at += n
  }
  return false
}

test('CSV: quoted line breaks and "" do not end or open a record; only a record past the limit (and margin) stops it', () => {
  const within = `id,text\n1,"a ""quoted""\nline, then more"\n2,${'x'.repeat(1_000)}\n3,"${'y\n'.repeat(500)}"\n`
  for (const pieces of [[1], [7, 3, 11], [4096]]) expect(feedAll('csv', within, pieces)).toBe(false)
  const unclosed = `id,text\n1,"${'z'.repeat(1_200)}`
  for (const pieces of [[1], [50], [5_000]]) expect(feedAll('csv', unclosed, pieces)).toBe(true)
  expect(feedAll('tsv', `a\tb\n1\t${'w'.repeat(1_200)}\n`, [64])).toBe(true)
})

test('JSON Lines: a line past the limit stops it; many short lines do not', () => {
  expect(feedAll('jsonl', `${'{"a":1}\n'.repeat(1_000)}`, [3, 333])).toBe(false)
  expect(feedAll('jsonl', `{"a":1}\n{"b":"${'q'.repeat(1_200)}`, [10])).toBe(true)
  expect(recordWatch('json')).toBeUndefined()
})
