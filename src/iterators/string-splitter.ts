import type { IteratorRow } from './registry.ts'
import { checkOptions, optionError, registerIterator } from './registry.ts'
import { paragraphs, sentences } from './text.ts'

// string_splitter: a string column into sentences or paragraphs.

export interface StringSplitterOptions {
  readonly separators?: 'sentence' | 'paragraph'
}

export const stringSplitter = registerIterator<StringSplitterOptions>({
  name: 'string_splitter',
  input: 'string',
  outputs: { text: 'string' },
  options: ['separators'],
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    checkOptions('string_splitter', options, ['separators'])
    if (typeof input !== 'string') throw optionError('string_splitter', `input must be a string, got ${typeof input}`)
    const sep = options.separators ?? 'sentence'
    if (sep !== 'sentence' && sep !== 'paragraph') throw optionError('string_splitter', `separators must be 'sentence' or 'paragraph', got ${JSON.stringify(sep)}`)
    const parts = sep === 'sentence' ? paragraphs(input).flatMap(sentences) : paragraphs(input)
    let pos = 0
    for (const text of parts) yield { pos: pos++, text }
  },
})
