import type { IteratorRow } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'
import { oneOf, readOptions } from './options.ts'
import { paragraphs, sentences } from './text.ts'

// string_splitter: a string column into sentences or paragraphs.

export interface StringSplitterOptions {
  readonly separators?: 'sentence' | 'paragraph'
}

const RULES = { separators: oneOf('sentence', 'paragraph') }

export const stringSplitter = registerIterator<StringSplitterOptions>({
  name: 'string_splitter',
  input: 'string',
  outputs: { text: 'string' },
  options: Object.keys(RULES),
  check: (options) => readOptions('string_splitter', options, RULES),
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError('string_splitter', `input must be a string, got ${typeof input}`)
    const sep = options.separators ?? 'sentence'
    const parts = sep === 'sentence' ? paragraphs(input).flatMap(sentences) : paragraphs(input)
    let pos = 0
    for (const text of parts) yield { pos: pos++, text }
  },
})
