import { readFile } from 'node:fs/promises'
import { resolveMedia } from '../media/index.ts'
import { extensionOf, isText, sniff } from '../media/index.ts'
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
  let heading: Record<string, string> = {}
  let title: string | undefined
  let buf: string[] = []
  let fence = false
  const flush = () => {
    for (const p of paragraphs(buf.join('\n'))) blocks.push({ text: p, heading })
    buf = []
  }
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence
    const m = fence ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line)
    if (m) {
      flush()
      const level = m[1]!.length
      heading = withHeading(heading, level, m[2]!)
      if (level === 1 && title === undefined) title = m[2]!
      continue
    }
    buf.push(line)
  }
  flush()
  return title === undefined ? { format: 'md', blocks } : { format: 'md', title, blocks }
}

const BLOCK_TAGS = new Set(['p', 'div', 'li', 'pre', 'blockquote', 'td', 'th', 'tr', 'section', 'article', 'br', 'dt', 'dd', 'figcaption', 'table', 'ul', 'ol'])
const SKIP_TAGS = new Set(['script', 'style', 'noscript', 'template', 'head'])

export async function parseHtml(html: string): Promise<ParsedDocument> {
  const { Parser } = await import('htmlparser2')
  const blocks: Block[] = []
  let heading: Record<string, string> = {}
  let title: string | undefined
  let text = ''
  let headingText: string | undefined
  let skip = 0
  let inTitle = false
  let titleText = ''
  const flush = () => {
    const t = text.replace(/\s+/g, ' ').trim()
    if (t) blocks.push({ text: t, heading })
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
  parser.write(html)
  parser.end()
  flush()
  return title === undefined ? { format: 'html', blocks } : { format: 'html', title, blocks }
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
