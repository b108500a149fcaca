import type { Block } from './document-parse.ts'
import { streamDocument } from './document-parse.ts'
import type { IteratorRow } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'
import { nonEmptyString, nonNegativeInt, positiveInt, readOptions, refuseOutside, stringList } from './options.ts'
import { budgetPieces, charCost, sentences, tokenCost } from './text.ts'
import { tokenCounter } from './tokens.ts'

// document_splitter: a document (PDF, HTML, Markdown, text) into chunks. Separators combine as in Pixeltable:
// 'heading' / 'page' / 'paragraph' / 'sentence' choose the units; 'char_limit' / 'token_limit' then cut each unit to
// `limit` with `overlap`. No separator at all gives one chunk for the whole document.

export type Separator = 'heading' | 'page' | 'paragraph' | 'sentence' | 'char_limit' | 'token_limit'
const SEPARATORS: readonly Separator[] = ['heading', 'page', 'paragraph', 'sentence', 'char_limit', 'token_limit']

export interface DocumentSplitterOptions {
  /** 'heading,token_limit' or ['heading', 'token_limit']. */
  readonly separators?: string | readonly Separator[]
  /** Characters (char_limit) or tokens (token_limit) per chunk. */
  readonly limit?: number
  /** Characters or tokens repeated from the end of the previous chunk. */
  readonly overlap?: number
  /** Folder with tokenizer.json for token_limit; without it tokens are whitespace-separated words. */
  readonly tokenizer?: string
  /** Metadata columns to fill: 'title', 'heading', 'page' (default all three). */
  readonly metadata?: string | readonly string[]
}

export function parseSeparators(name: string, s: DocumentSplitterOptions['separators']): Set<Separator> {
  const list = (typeof s === 'string' ? s.split(',') : [...(s ?? [])]).map((x) => x.trim().toLowerCase()).filter(Boolean)
  for (const x of list) if (!SEPARATORS.includes(x as Separator)) throw optionError(name, `unknown separator '${x}'; use ${SEPARATORS.join(', ')}`)
  const set = new Set(list as Separator[])
  if (set.has('char_limit') && set.has('token_limit')) throw optionError(name, 'use char_limit or token_limit, not both')
  return set
}

export interface Unit {
  readonly text: string
  readonly heading: Readonly<Record<string, string>>
  readonly page?: number
  /**
   * Where each block merged into the unit after its first starts in `text`, with its heading and page: a unit cut by
   * a limit gives each piece those of the block it starts in (without 'heading' among the separators, a whole
   * document is one unit, and every piece had its first heading).
   */
  readonly marks?: readonly Mark[]
}

interface Mark {
  readonly at: number
  readonly heading: Readonly<Record<string, string>>
  readonly page?: number
}

/** groupBlocks over a stream of blocks: a unit is emitted once the block after it starts another one. */
export async function* groupBlockStream(blocks: AsyncIterable<Block>, seps: ReadonlySet<Separator>): AsyncGenerator<Unit> {
  if (seps.has('sentence') || seps.has('paragraph')) {
    // Units never span blocks here.
    for await (const b of blocks) yield* groupBlocks([b], seps)
    return
  }
  let pending: Unit | undefined
  for await (const b of blocks) {
    const units = groupBlocks(pending ? [pending, b] : [b], seps)
    // All but the last unit are complete: the last may still grow with the next block.
    for (const u of units.slice(0, -1)) yield u
    pending = units.at(-1)
  }
  if (pending) yield pending
}

/** Groups blocks into units per the separators (before limits). */
export function groupBlocks(blocks: readonly Block[], seps: ReadonlySet<Separator>): Unit[] {
  if (seps.has('sentence')) return blocks.flatMap((b) => sentences(b.text).map((text) => ({ ...b, text })))
  if (seps.has('paragraph')) return [...blocks]
  const units: Unit[] = []
  for (const b of blocks) {
    const last = units[units.length - 1]
    const sameHeading = !seps.has('heading') || (last && JSON.stringify(last.heading) === JSON.stringify(b.heading))
    const samePage = !seps.has('page') || last?.page === b.page
    if (last && sameHeading && samePage) {
      // A unit spanning pages keeps the page it starts on; where each block starts is marked for a limit's pieces.
      const mark: Mark = b.page === undefined ? { at: last.text.length + 2, heading: b.heading } : { at: last.text.length + 2, heading: b.heading, page: b.page }
      units[units.length - 1] = { ...last, text: `${last.text}\n\n${b.text}`, marks: [...(last.marks ?? []), mark] }
    } else {
      // Only what a unit holds (a block may carry more); a unit carried over from the last call keeps its marks.
      const { text, heading, page, marks } = b as Unit
      units.push({ text, heading, ...(page === undefined ? {} : { page }), ...(marks ? { marks } : {}) })
    }
  }
  return units
}

/** The heading and page of the block a piece of `unit` starting at `start` starts in. */
function markAt(unit: Unit, start: number): { readonly heading: Readonly<Record<string, string>>; readonly page?: number } {
  let at: { readonly heading: Readonly<Record<string, string>>; readonly page?: number } = unit
  for (const m of unit.marks ?? []) {
    if (m.at > start) break
    at = m
  }
  return at
}

const NAME = 'document_splitter'
const METADATA = ['title', 'heading', 'page']
const RULES = { separators: stringList, limit: positiveInt, overlap: nonNegativeInt, tokenizer: nonEmptyString, metadata: stringList }

const metadataNames = (m: DocumentSplitterOptions['metadata']): string[] => (typeof m === 'string' ? m.split(',').map((s) => s.trim()).filter(Boolean) : [...(m ?? METADATA)])

/** Types and ranges, separator and metadata names, and limit/overlap/tokenizer only where a limit separator uses them. */
export function checkDocumentOptions(options: unknown): void {
  const o = readOptions<DocumentSplitterOptions>(NAME, options, RULES)
  const seps = parseSeparators(NAME, o.separators)
  if (seps.has('char_limit') || seps.has('token_limit')) {
    if (o.limit === undefined) throw optionError(NAME, 'char_limit/token_limit need a positive limit')
    if ((o.overlap ?? 0) >= o.limit) throw optionError(NAME, `overlap must be >= 0 and below limit (${o.limit}), got ${o.overlap}`)
  } else {
    refuseOutside(NAME, o as Record<string, unknown>, ['limit', 'overlap'], "with separator 'char_limit' or 'token_limit'")
  }
  if (!seps.has('token_limit')) refuseOutside(NAME, o as Record<string, unknown>, ['tokenizer'], "with separator 'token_limit'")
  const unknown = metadataNames(o.metadata).filter((m) => !METADATA.includes(m))
  if (unknown.length > 0) throw optionError(NAME, `unknown metadata ${unknown.map((m) => `'${m}'`).join(', ')}; use ${METADATA.join(', ')}`)
}

export const documentSplitter = registerIterator<DocumentSplitterOptions>({
  name: NAME,
  input: 'document',
  outputs: { text: 'string', title: 'string?', heading: 'json?', page: 'int?' },
  options: Object.keys(RULES),
  check: checkDocumentOptions,
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError(NAME, `input must be a document reference, got ${typeof input}`)
    const seps = parseSeparators(NAME, options.separators)
    const limited = seps.has('char_limit') || seps.has('token_limit')
    const limit = options.limit
    const overlap = options.overlap ?? 0
    const meta = new Set(metadataNames(options.metadata))
    const doc = await streamDocument(input)
    const cost = seps.has('token_limit') ? tokenCost(await tokenCounter(options.tokenizer)) : charCost
    let pos = 0
    for await (const unit of groupBlockStream(doc.blocks, seps)) {
      const pieces = limited ? budgetPieces(unit.text, limit!, overlap, cost) : [{ text: unit.text, start: 0 }]
      for (const { text, start } of pieces) {
        const at = markAt(unit, start)
        yield {
          pos: pos++,
          text,
          title: meta.has('title') ? doc.title ?? null : null,
          heading: meta.has('heading') && Object.keys(at.heading).length > 0 ? at.heading : null,
          page: meta.has('page') ? at.page ?? null : null,
        }
      }
    }
  },
})
