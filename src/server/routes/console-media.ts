import { stat } from 'node:fs/promises'
import { Hono } from 'hono'
import { byteRange } from '../byte-range.ts'
import { fileBody } from '../file-body.ts'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { invalid, isTesseraError, notFound } from '../../errors.ts'
import { parseDocument } from '../../iterators/index.ts'
import type { ParsedDocument } from '../../iterators/index.ts'
import { checkMediaFile, clearStoreRefs, extensionOf, mimeForExt, readFileHead, resolveMedia, sniff, withMediaAccess } from '../../media/index.ts'
import { colNode, fnNode, litNode } from '../../query/index.ts'
import { parseType } from '../../types/index.ts'
import { assertCanTouch } from '../tenant.ts'
import { MediaParams } from '../../api/index.ts'
import type { DocumentPreview } from '../../api/index.ts'
import { readParams } from '../request.ts'
import type { AuthEnv } from '../auth.ts'
import type { OperationDoc } from '../openapi.ts'
import { TABLE } from './tables.ts'

// The bytes behind a media cell, for <img>/<audio> tags (the web console's thumbnails and players). A client names
// the table, the column and the reference it read from a row; the reference is served only if that column holds it
// at the version read, so a token can never use this route to read files that are not in a table it may read.
// `w=N` returns an image thumbnail of at most N×N pixels (webp), cached in memory. `preview=text` (document columns)
// returns the start of the document's plain text as JSON, `{ text, truncated, pages?, title?, kind }`, extracted by
// the same parser as the document_splitter iterator and cached in memory.

export const mediaDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/tables/{path}/-/media', summary: "The bytes behind a media cell (w=N, 1..2048: a webp thumbnail; preview=text: a document's first ~2000 characters of plain text as JSON { text, truncated, pages?, title?, kind }); only references the column holds", tag: 'media', params: MediaParams },
]

const THUMB_CACHE_MAX = 512
const thumbs = new Map<string, Uint8Array>()

/** What preview=text answers: the contract's DocumentPreview (src/api). */
export type { DocumentPreview }

export const PREVIEW_CHARS = 2000
/** Larger files are not parsed for a preview (the whole file is read and parsed; the link still opens it). */
export const PREVIEW_MAX_BYTES = 32 * 1024 * 1024
const PREVIEW_CACHE_MAX = 512
// Keyed by the resolved file with its size and mtime, so a local file that changes is parsed again. Values are
// promises: cells asking for the same document at once share one parse. Failures are not kept.
const previews = new Map<string, Promise<DocumentPreview>>()

/** Plain text of a parsed document: headings on their own lines where they change, paragraphs between blank lines. */
export function previewText(doc: ParsedDocument, max = PREVIEW_CHARS): { text: string; truncated: boolean } {
  const parts: string[] = []
  let prev: Readonly<Record<string, string>> = {}
  let len = 0
  for (const b of doc.blocks) {
    for (const [level, h] of Object.entries(b.heading).sort(([a], [c]) => a.localeCompare(c))) {
      if (prev[level] !== h) {
        parts.push(h)
        len += h.length + 2
      }
    }
    prev = b.heading
    parts.push(b.text)
    len += b.text.length + 2
    if (len > max + 200) break
  }
  const full = parts.join('\n\n')
  if (full.length <= max) return { text: full, truncated: false }
  // Cut at the last whitespace near the limit, so the preview does not end mid-word.
  const cut = full.slice(0, max)
  const space = cut.search(/\s\S*$/)
  return { text: (space > max - 80 ? cut.slice(0, space) : cut).trimEnd(), truncated: true }
}

async function documentPreview(file: string, describe: string, details: Record<string, unknown>): Promise<DocumentPreview> {
  const st = await stat(file)
  if (st.size > PREVIEW_MAX_BYTES) {
    throw invalid('INVALID_ARGUMENT', `${describe} is ${(st.size / 1048576).toFixed(0)} MiB; text previews are made for documents up to ${PREVIEW_MAX_BYTES / 1048576} MiB (open the file instead)`, details)
  }
  const key = `${file}|${st.size}|${st.mtimeMs}`
  let p = previews.get(key)
  if (!p) {
    p = (async () => {
      // A resolved local path is itself a reference, and keeps the extension the parser dispatches on. The caller's
      // right to this file was checked when its reference was resolved (a media:// upload resolves into the data
      // dir's store, which callers cannot name by path), so the parse reads it as the server.
      const doc = await withMediaAccess({ localRoots: 'any', who: 'server' }, () => parseDocument(file))
      const { text, truncated } = previewText(doc)
      // parseDocument keeps only pages with text; the page count comes from the PDF itself.
      const pages = doc.format === 'pdf' ? ((await checkMediaFile('document', file).catch(() => undefined))?.pages ?? doc.blocks.reduce((n, b) => Math.max(n, b.page ?? 0), 0)) : 0
      return { text, truncated, ...(pages > 0 ? { pages } : {}), ...(doc.title ? { title: doc.title } : {}), kind: doc.format }
    })()
    if (previews.size >= PREVIEW_CACHE_MAX) previews.delete(previews.keys().next().value!)
    previews.set(key, p)
    p.catch(() => { if (previews.get(key) === p) previews.delete(key) })
  }
  try {
    return await p
  } catch (e) {
    // Whatever the parser says (a TesseraError or a library's own error), the request gets a 400 naming the cell.
    const why = isTesseraError(e) ? e.message.replace(file, 'it') : `${(e as Error).name}: ${(e as Error).message}`
    throw invalid('INVALID_MEDIA', `cannot make a text preview of ${describe}: ${why}`, details)
  }
}

export function consoleMediaRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.get(`/tables/${TABLE}/-/media`, async (c) => {
    const raw = c.req.param('path')
    // The token parameter is read by the auth layer.
    const { column = '', ref = '', w, preview } = readParams(c, MediaParams)
    assertCanTouch(c.var.principal, parsePath(raw, { allowVersion: true }).path, 'read')
    const t = await db.getTable(raw)
    const info = t.columns().find((x) => x.name === column)
    if (!info) throw notFound('COLUMN_NOT_FOUND', `'${t.path}' has no column '${column}'`, { column })
    const kind = parseType(info.type).kind
    if (!['image', 'audio', 'video', 'document'].includes(kind)) throw invalid('INVALID_ARGUMENT', `column '${column}' of '${t.path}' is ${info.type}, not a media column`, { column })
    if (!ref) throw invalid('INVALID_ARGUMENT', 'give the media reference to serve: ?column=NAME&ref=REF')
    if (preview !== undefined) {
      if (kind !== 'document') throw invalid('INVALID_ARGUMENT', `column '${column}' of '${t.path}' is ${info.type}: text previews are for document columns`, { column })
    }
    const held = await t.where(fnNode('eq', [colNode(column), litNode(ref, info.type.replace(/\?$/, ''))])).limit(1).count()
    if (held === 0) throw notFound('NOT_FOUND', `column '${column}' of '${t.path}' holds no media '${ref.slice(0, 80)}'`, { column })
    // Held by a table the caller may read: within its reach (media/read-gate.ts), no second lookup.
    clearStoreRefs([ref])
    const file = await resolveMedia(ref, db.media)
    if (preview !== undefined) {
      const shortRef = ref.length > 80 ? `${ref.slice(0, 77)}...` : ref
      const body = await documentPreview(file, `document '${shortRef}' in column '${column}' of '${t.path}'`, { column, ref: shortRef })
      return c.json(body, 200, { 'cache-control': 'private, max-age=3600', 'x-content-type-options': 'nosniff' })
    }
    const headers: Record<string, string> = {
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
      // HTML documents and SVG images may carry script: they render sandboxed, in an opaque origin.
      'content-security-policy': 'sandbox',
    }
    if (kind === 'image' && w > 0) {
      const key = `${ref}|${w}`
      let thumb = thumbs.get(key)
      if (!thumb) {
        const sharp = (await import('sharp')).default
        thumb = new Uint8Array(await sharp(file).rotate().resize(w, w, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer())
        if (thumbs.size >= THUMB_CACHE_MAX) thumbs.delete(thumbs.keys().next().value!)
        thumbs.set(key, thumb)
      }
      return c.body(thumb as Uint8Array<ArrayBuffer>, 200, { ...headers, 'content-type': 'image/webp' })
    }
    // A Range (a video or audio element seeking) is served from a regular file; anything else gets the whole file.
    const onDisk = await stat(file)
    const range = onDisk.isFile() ? byteRange(c.req.header('range'), onDisk.size) : undefined
    headers['accept-ranges'] = onDisk.isFile() ? 'bytes' : 'none'
    if (range === 'unsatisfiable') return c.body(null, 416, { ...headers, 'content-range': `bytes */${onDisk.size}` })
    const { head, body } = await fileBody(file, range)
    const type = (bytes: Uint8Array) => mimeForExt(sniff(bytes.subarray(0, 4096))?.ext ?? extensionOf(ref)) ?? 'application/octet-stream'
    if (!range) return c.body(body, 200, { ...headers, 'content-type': type(head) })
    return c.body(body, 206, {
      ...headers,
      'content-type': type(range.start === 0 ? head : await readFileHead(file, 4096)),
      'content-range': `bytes ${range.start}-${range.end}/${onDisk.size}`,
      'content-length': String(range.end - range.start + 1),
    })
  })

  return app
}
