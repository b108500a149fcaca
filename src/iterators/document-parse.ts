import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolveMedia } from '../media/index.ts'
import { extensionOf, isText, readFileHead, sniff } from '../media/index.ts'
import { invalid } from '../errors.ts'
import { paragraphs } from './text.ts'

// A document becomes a flat list of paragraphs, each with the headings above it and (PDF) its page, so every
// separator is a grouping of this one list.

export interface Block {
  readonly text: string
  /** Headings in force: { h1: 'Intro', h2: 'Setup' }. */
  readonly heading: Readonly<Record<string, string>>
  readonly page?: number
}

export interface ParsedDocument {
  readonly format: 'pdf' | 'html' | 'md' | 'txt'
  readonly title?: string
  readonly blocks: readonly Block[]
}

export async function parseDocument(ref: string): Promise<ParsedDocument> {
  const file = await resolveMedia(ref)
  const bytes = new Uint8Array(await readFile(file))
  const found = sniff(bytes.subarray(0, 1024))
  const ext = extensionOf(file)
  if (found?.ext === 'pdf') return parsePdf(bytes)
  if (found && found.kind !== 'document') throw invalid('INVALID_MEDIA', `${ref} is a ${found.kind}/${found.ext} file, not a document`)
  if (!isText(bytes)) throw invalid('INVALID_MEDIA', `${ref} is neither a PDF nor UTF-8 text`)
  const text = new TextDecoder().decode(bytes)
  if (found?.ext === 'html' || ext === 'html' || ext === 'htm') return parseHtml(text)
  if (ext === 'md' || ext === 'markdown') return parseMarkdown(text)
  return { format: 'txt', blocks: paragraphs(text).map((p) => ({ text: p, heading: {} })) }
}

export function parseMarkdown(text: string): ParsedDocument {
  const blocks: Block[] = []
  const p = new MarkdownBlocks((b) => blocks.push(b))
  p.write(text)
  p.end()
  return p.title === undefined ? { format: 'md', blocks } : { format: 'md', title: p.title, blocks }
}

/** Markdown parsed as text arrives (line by line): a paragraph is emitted at the blank line or heading after it. */
class MarkdownBlocks {
  title: string | undefined
  #heading: Record<string, string> = {}
  #buf: string[] = []
  #fence = false
  #partial = ''

  constructor(readonly emit: (b: Block) => void, readonly markdown = true) {}

  write(text: string): void {
    // A piece without a line break only lengthens the held line (one long line arriving in many pieces is not
    // split again at each piece).
    if (!text.includes('\n')) {
      this.#partial += text
      return
    }
    const lines = (this.#partial + text).split(/\r?\n/)
    this.#partial = lines.pop() ?? ''
    for (const line of lines) this.#line(line)
  }

  end(): void {
    if (this.#partial) this.#line(this.#partial)
    this.#partial = ''
    this.#flush()
  }

  #flush(): void {
    for (const p of paragraphs(this.#buf.join('\n'))) this.emit({ text: p, heading: this.#heading })
    this.#buf = []
  }

  #line(line: string): void {
    if (this.markdown && /^\s*(```|~~~)/.test(line)) this.#fence = !this.#fence
    const h = this.#fence || !this.markdown ? undefined : atxHeading(line)
    if (h) {
      this.#flush()
      this.#heading = withHeading(this.#heading, h.level, h.text)
      if (h.level === 1 && this.title === undefined) this.title = h.text
      return
    }
    // A blank line ends paragraphs (paragraphs() would split there anyway): nothing before it is held.
    if (/^[ \t]*$/.test(line) && !this.#fence) this.#flush()
    else this.#buf.push(line)
  }
}

// JavaScript's \s, one character at a time (a one-character test cannot backtrack).
const SPACE = /\s/
const isSpace = (c: string): boolean => SPACE.test(c)
// What `.` does not match: a heading's text never holds one.
const isLineEnd = (c: string): boolean => c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029'

/**
 * An ATX heading line ('## Setup ##'): 1-6 '#', whitespace, the text, then optional closing '#'s and whitespace.
 * The same answers as /^(#{1,6})\s+(.*?)\s*#*\s*$/ gave, by scanning the line once: that regex backtracked in
 * cubic time on '# a' + many spaces + 'a' (10,000 spaces did not finish), on the serving thread.
 */
export function atxHeading(line: string): { level: number; text: string } | undefined {
  let level = 0
  while (level < line.length && line[level] === '#') level++
  if (level < 1 || level > 6 || level >= line.length || !isSpace(line[level]!)) return undefined
  let start = level
  while (start < line.length && isSpace(line[start]!)) start++
  // The longest tail of the form whitespace* '#'* whitespace*, from the right; the text is what precedes it.
  let end = line.length
  while (end > start && isSpace(line[end - 1]!)) end--
  while (end > start && line[end - 1] === '#') end--
  while (end > start && isSpace(line[end - 1]!)) end--
  for (let i = start; i < end; i++) if (isLineEnd(line[i]!)) return undefined
  return { level, text: line.slice(start, end) }
}

const BLOCK_TAGS = new Set(['p', 'div', 'li', 'pre', 'blockquote', 'td', 'th', 'tr', 'section', 'article', 'br', 'dt', 'dd', 'figcaption', 'table', 'ul', 'ol'])
const SKIP_TAGS = new Set(['script', 'style', 'noscript', 'template', 'head'])

export async function parseHtml(html: string): Promise<ParsedDocument> {
  const blocks: Block[] = []
  const p = await htmlBlocks((b) => blocks.push(b))
  p.write(html)
  p.end()
  const title = p.title()
  return title === undefined ? { format: 'html', blocks } : { format: 'html', title, blocks }
}

/** HTML parsed as it arrives (htmlparser2 is a streaming parser): blocks are emitted as their tags close. */
async function htmlBlocks(emit: (b: Block) => void): Promise<{ write(s: string): void; end(): void; title(): string | undefined }> {
  const { Parser } = await import('htmlparser2')
  let heading: Record<string, string> = {}
  let title: string | undefined
  let text = ''
  let headingText: string | undefined
  let skip = 0
  let inTitle = false
  let titleText = ''
  const flush = () => {
    const t = text.replace(/\s+/g, ' ').trim()
    if (t) emit({ text: t, heading })
    text = ''
  }
  const parser = new Parser({
    onopentag(name) {
      if (name === 'title') inTitle = true
      else if (SKIP_TAGS.has(name)) skip++
      else if (/^h[1-6]$/.test(name)) {
        flush()
        headingText = ''
      } else if (BLOCK_TAGS.has(name)) flush()
    },
    ontext(t) {
      if (inTitle) titleText += t
      else if (skip > 0) return
      else if (headingText !== undefined) headingText += t
      else text += t
    },
    onclosetag(name) {
      if (name === 'title') {
        inTitle = false
        title = titleText.replace(/\s+/g, ' ').trim() || undefined
      } else if (SKIP_TAGS.has(name)) skip = Math.max(0, skip - 1)
      else if (/^h[1-6]$/.test(name) && headingText !== undefined) {
        heading = withHeading(heading, Number(name[1]), headingText.replace(/\s+/g, ' ').trim())
        if (name === 'h1' && title === undefined) title = heading.h1
        headingText = undefined
      } else if (BLOCK_TAGS.has(name)) flush()
    },
  }, { decodeEntities: true, lowerCaseTags: true })
  return { write: (s) => parser.write(s), end: () => (parser.end(), flush()), title: () => title }
}

/** A document whose blocks are read as a stream (a large text, Markdown or HTML file is never whole in memory). */
export interface DocumentStream {
  readonly format: ParsedDocument['format']
  readonly title?: string
  readonly blocks: AsyncIterable<Block>
}

const READ_CHUNK = 1 << 18

/**
 * Like parseDocument, but text formats are read from disk in pieces and their blocks come as they are parsed. The
 * title (first H1, or HTML <title>) is known before the first block: a quick first pass finds it. PDFs are parsed
 * whole (the PDF library needs the whole file), then handed out block by block.
 */
export async function streamDocument(ref: string): Promise<DocumentStream> {
  const file = await resolveMedia(ref)
  const head = await readFileHead(file, 1024)
  const found = sniff(head)
  const ext = extensionOf(file)
  if (found?.ext === 'pdf') {
    const doc = await parsePdf(new Uint8Array(await readFile(file)))
    return { ...doc, blocks: (async function* () { yield* doc.blocks })() }
  }
  if (found && found.kind !== 'document') throw invalid('INVALID_MEDIA', `${ref} is a ${found.kind}/${found.ext} file, not a document`)
  if (!isText(head.subarray(0, Math.max(0, head.length - 4)))) throw invalid('INVALID_MEDIA', `${ref} is neither a PDF nor UTF-8 text`)
  const format: ParsedDocument['format'] = found?.ext === 'html' || ext === 'html' || ext === 'htm' ? 'html' : ext === 'md' || ext === 'markdown' ? 'md' : 'txt'
  const makeParser = async (emit: (b: Block) => void): Promise<{ write(s: string): void; end(): void; title(): string | undefined }> => {
    if (format === 'html') return htmlBlocks(emit)
    // Plain text is paragraphs only: a '#' line is text, not a heading.
    const md = new MarkdownBlocks(emit, format === 'md')
    return { write: (s) => md.write(s), end: () => md.end(), title: () => md.title }
  }
  let title: string | undefined
  if (format !== 'txt') {
    const first = await makeParser(() => undefined)
    for await (const text of readText(file, ref)) {
      first.write(text)
      if (first.title() !== undefined) break
    }
    title = first.title()
  }
  async function* blocks(): AsyncGenerator<Block> {
    const queue: Block[] = []
    const parser = await makeParser((b) => queue.push(b))
    for await (const text of readText(file, ref)) {
      parser.write(text)
      yield* queue.splice(0)
    }
    parser.end()
    yield* queue.splice(0)
  }
  return { format, ...(title === undefined ? {} : { title }), blocks: blocks() }
}


/** The file's text in pieces; invalid UTF-8 anywhere fails with the document named. */
async function* readText(file: string, ref: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK })
  try {
    for await (const chunk of stream) yield decode(decoder, chunk as Uint8Array, true, ref)
    yield decode(decoder, new Uint8Array(0), false, ref)
  } finally {
    stream.destroy()
  }
}

function decode(d: TextDecoder, b: Uint8Array, more: boolean, ref: string): string {
  try {
    return d.decode(b, { stream: more })
  } catch {
    throw invalid('INVALID_MEDIA', `${ref} is neither a PDF nor UTF-8 text`)
  }
}

export async function parsePdf(bytes: Uint8Array): Promise<ParsedDocument> {
  const { extractText, getDocumentProxy, getMeta } = await import('unpdf')
  let pdf
  try {
    pdf = await getDocumentProxy(bytes)
  } catch (e) {
    throw invalid('INVALID_MEDIA', `unpdf cannot read the PDF (${(e as Error).message})`)
  }
  const { text } = await extractText(pdf, { mergePages: false })
  const meta = await getMeta(pdf).catch(() => undefined)
  const title = (meta?.info as { Title?: string } | undefined)?.Title || undefined
  const blocks: Block[] = []
  text.forEach((pageText, i) => {
    // PDF text has no paragraph markup: blank lines when present, else the page is one block.
    for (const p of paragraphs(pageText)) blocks.push({ text: p, heading: {}, page: i + 1 })
  })
  return title ? { format: 'pdf', title, blocks } : { format: 'pdf', blocks }
}

function withHeading(h: Record<string, string>, level: number, text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (let l = 1; l < level; l++) if (h[`h${l}`] !== undefined) out[`h${l}`] = h[`h${l}`]!
  out[`h${level}`] = text
  return out
}
