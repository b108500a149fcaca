import { Hono } from 'hono'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { invalid } from '../../errors.ts'
import { Expr } from '../../query/expr.ts'
import { requireAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { readJson, sendJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { ExprSchema } from '../schemas.ts'
import { TABLE } from './tables.ts'

// Similarity search over an embedding index, by text or by an image sent in the request (a data: URL or base64),
// and hybrid (full text + vector) search; plus the list of a table's indexes. The query route already takes
// similarity() with a text query; an image cannot travel inside a JSON expression as bytes, hence this route.

const Search = v.strictObject({
  column: v.pipe(v.string(), v.minLength(1)),
  text: v.optional(v.string()),
  /** An image as a data: URL or plain base64. */
  image: v.optional(v.string()),
  idx: v.optional(v.string()),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
  where: v.optional(ExprSchema),
  /** Fuse full-text ranking with the vector ranking (text queries on string columns). */
  hybrid: v.optional(v.boolean()),
})

export const searchDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/tables/{path}/-/indexes', summary: "A table's embedding indexes", tag: 'search' },
  { method: 'post', path: '/api/v1/tables/{path}/-/search', summary: 'Similarity search by text or image (data: URL or base64), optionally hybrid with full text', tag: 'search', body: Search },
]

function imageBytes(s: string): Uint8Array {
  const m = /^data:[^;,]*;base64,(.*)$/s.exec(s)
  const b64 = m ? m[1]! : s
  if (!/^[A-Za-z0-9+/=\s]+$/.test(b64)) throw invalid('INVALID_ARGUMENT', 'image: expected a base64 data: URL or plain base64')
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

export function consoleSearchRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.get(`/tables/${TABLE}/-/indexes`, async (c) => {
    const raw = c.req.param('path')
    requireAccess(c.var.principal, parsePath(raw, { allowVersion: true }).path, 'read')
    return c.json({ indexes: (await db.getTable(raw)).listIndexes() })
  })

  app.post(`/tables/${TABLE}/-/search`, async (c) => {
    const body = await readJson(c, Search)
    const raw = c.req.param('path')
    requireAccess(c.var.principal, parsePath(raw, { allowVersion: true }).path, 'read')
    const t = await db.getTable(raw)
    if ((body.text === undefined) === (body.image === undefined)) throw invalid('INVALID_ARGUMENT', 'give exactly one of text or image to search by')
    const k = body.k ?? 10
    const where = body.where ? new Expr(body.where) : undefined
    if (body.hybrid) {
      if (body.text === undefined) throw invalid('INVALID_ARGUMENT', 'hybrid search takes a text query, not an image')
      const rs = await t.hybridSearch(body.text, { column: body.column, k, ...(body.idx ? { idx: body.idx } : {}), ...(where ? { where } : {}) })
      return sendJson(c, rs.toJSON())
    }
    const query = body.text !== undefined ? body.text : { image: imageBytes(body.image!) }
    const sim = t.col(body.column).similarity(query, body.idx ? { idx: body.idx } : {})
    const visible = Object.fromEntries(Object.keys(t.schema()).map((name) => [name, t.col(name)]))
    const q = (where ? t.where(where) : t.query()).orderBy(sim, 'desc').limit(k).select({ ...visible, score: sim })
    return sendJson(c, (await q.collect()).toJSON())
  })

  return app
}
