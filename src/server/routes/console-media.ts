import { readFile } from 'node:fs/promises'
import { Hono } from 'hono'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { invalid, notFound } from '../../errors.ts'
import { extensionOf, mimeForExt, resolveMedia, sniff } from '../../media/index.ts'
import { parseType } from '../../types/index.ts'
import { requireAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import type { OperationDoc } from '../openapi.ts'
import { TABLE } from './tables.ts'

// The bytes behind a media cell, for <img>/<audio> tags (the web console's thumbnails and players). A client names
// the table, the column and the reference it read from a row; the reference is served only if that column holds it
// at the version read, so a token can never use this route to read files that are not in a table it may read.
// `w=N` returns an image thumbnail of at most N×N pixels (webp), cached in memory.

export const mediaDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/tables/{path}/-/media', summary: "The bytes behind a media cell (w=N: a webp thumbnail); only references the column holds", tag: 'media', query: ['column', 'ref', 'w', 'token'] },
]

const THUMB_CACHE_MAX = 512
const thumbs = new Map<string, Uint8Array>()

export function consoleMediaRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.get(`/tables/${TABLE}/-/media`, async (c) => {
    const raw = c.req.param('path')
    requireAccess(c.var.principal, parsePath(raw, { allowVersion: true }).path, 'read')
    const t = await db.getTable(raw)
    const column = c.req.query('column') ?? ''
    const ref = c.req.query('ref') ?? ''
    const info = t.columns().find((x) => x.name === column)
    if (!info) throw notFound('COLUMN_NOT_FOUND', `'${t.path}' has no column '${column}'`, { column })
    const kind = parseType(info.type).kind
    if (!['image', 'audio', 'video', 'document'].includes(kind)) throw invalid('INVALID_ARGUMENT', `column '${column}' of '${t.path}' is ${info.type}, not a media column`, { column })
    if (!ref) throw invalid('INVALID_ARGUMENT', 'give the media reference to serve: ?column=NAME&ref=REF')
    const held = await t.where({ fn: 'eq', args: [{ col: column }, { lit: ref, type: info.type.replace(/\?$/, '') }] }).limit(1).count()
    if (held === 0) throw notFound('NOT_FOUND', `column '${column}' of '${t.path}' holds no media '${ref.slice(0, 80)}'`, { column })
    const file = await resolveMedia(ref, db.media)
    const w = Number(c.req.query('w') ?? 0)
    const headers: Record<string, string> = {
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
      // HTML documents and SVG images may carry script: they render sandboxed, in an opaque origin.
      'content-security-policy': 'sandbox',
    }
    if (kind === 'image' && Number.isInteger(w) && w > 0 && w <= 2048) {
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
    const bytes = new Uint8Array(await readFile(file))
    const ext = sniff(bytes.subarray(0, 4096))?.ext ?? extensionOf(ref)
    return c.body(bytes, 200, { ...headers, 'content-type': mimeForExt(ext) ?? 'application/octet-stream' })
  })

  return app
}
