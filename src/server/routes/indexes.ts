import { Hono } from 'hono'
import * as v from 'valibot'
import { AddIndexRequestSchema, DropPartParams, IndexListAnswerSchema, NameSchema, QueryAnswerSchema, SchemaChangeAnswerSchema, SearchRequestSchema } from '../../api/index.ts'
import type { Tessera } from '../../catalog/index.ts'
import { invalid } from '../../errors.ts'
import { freeOutputNames, searchOutputs } from '../../index/index.ts'
import { Expr } from '../../query/index.ts'
import type { Access, AuthEnv } from '../auth.ts'
import { readJson, sendJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { readParams } from '../request.ts'
import { TABLE, tableFromParam, tableInfo } from './tables.ts'

// Embedding indexes (add, list, drop) and search over them: similarity by text or by an image sent in the request
// (a data: URL or base64), and hybrid (full text + vector) search. The query route also takes similarity() with a
// text query; an image cannot travel inside a JSON expression as bytes, hence the search route.

export const indexDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/tables/{path}/-/indexes', summary: "A table's embedding indexes", tag: 'search', answer: IndexListAnswerSchema },
  { method: 'post', path: '/api/v1/tables/{path}/-/indexes', summary: 'Add an embedding index (an embedder as data, e.g. {"fn":"lexical_embed","opts":{},"modality":"text"})', tag: 'search', body: AddIndexRequestSchema, success: 201, answer: SchemaChangeAnswerSchema },
  { method: 'delete', path: '/api/v1/tables/{path}/-/indexes/{name}', summary: 'Drop an embedding index', tag: 'search', params: DropPartParams, answer: SchemaChangeAnswerSchema },
  { method: 'post', path: '/api/v1/tables/{path}/-/search', summary: 'Similarity search by text, image (data: URL or base64) or vector, optionally hybrid with full text', tag: 'search', body: SearchRequestSchema, answer: QueryAnswerSchema },
]

function imageBytes(s: string): Uint8Array {
  const m = /^data:[^;,]*;base64,(.*)$/s.exec(s)
  const b64 = m ? m[1]! : s
  if (!/^[A-Za-z0-9+/=\s]+$/.test(b64)) throw invalid('INVALID_ARGUMENT', 'image: expected a base64 data: URL or plain base64')
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

export function indexRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  const table = (c: Parameters<typeof tableFromParam>[1], access: Access) => tableFromParam(db, c, access)

  app.get(`/tables/${TABLE}/-/indexes`, async (c) => c.json({ indexes: (await table(c, 'read')).listIndexes() }))

  app.post(`/tables/${TABLE}/-/indexes`, async (c) => {
    const body = await readJson(c, AddIndexRequestSchema)
    const t = await table(c, 'write')
    const before = t.listIndexes().length
    const { column, ...options } = body
    const status = await t.addEmbeddingIndex(column, options)
    return c.json({ status, table: tableInfo(t) }, t.listIndexes().length > before ? 201 : 200)
  })

  app.delete(`/tables/${TABLE}/-/indexes/:name`, async (c) => {
    const name = v.parse(NameSchema, c.req.param('name'))
    const { ifNotExists } = readParams(c, DropPartParams)
    const t = await table(c, 'write')
    const status = await t.dropEmbeddingIndex(name, { ifNotExists })
    return c.json({ status, table: tableInfo(t) })
  })

  app.post(`/tables/${TABLE}/-/search`, async (c) => {
    const body = await readJson(c, SearchRequestSchema)
    const t = await table(c, 'read')
    const given = (['text', 'image', 'vector'] as const).filter((key) => body[key] !== undefined)
    if (given.length !== 1) throw invalid('INVALID_ARGUMENT', `give exactly one of text, image or vector to search by${given.length ? `, not ${given.join(' and ')}` : ''}`)
    const k = body.k ?? 10
    const where = body.where ? new Expr(body.where) : undefined
    if (body.hybrid) {
      if (body.text === undefined) throw invalid('INVALID_ARGUMENT', `hybrid search takes a text query, not ${body.image !== undefined ? 'an image' : 'a vector'}`)
      const { column, idx, candidates, language, rrfK } = body
      const rs = await t.hybridSearch(body.text, {
        column, k, ...(idx ? { idx } : {}), ...(where ? { where } : {}),
        ...(candidates ? { candidates } : {}), ...(language ? { language } : {}), ...(rrfK !== undefined ? { rrfK } : {}),
        ...(body.errors ? { withErrors: true } : {}),
      })
      return sendJson(c, rs.toJSON())
    }
    const query = body.text ?? (body.vector ? { vector: body.vector } : { image: imageBytes(body.image!) })
    const sim = t.col(body.column).similarity(query, { ...(body.idx ? { idx: body.idx } : {}), ...(body.efSearch ? { efSearch: body.efSearch } : {}), ...(body.exact !== undefined ? { exact: body.exact } : {}) })
    // The table's own columns come back as they are: a column named score keeps it, the similarity takes a free name.
    const visible = searchOutputs(t, body.errors)
    const out = freeOutputNames(Object.keys(visible), ['score'])
    const q = (where ? t.where(where) : t.query()).orderBy(sim, 'desc').limit(k).select({ ...visible, [out.score]: sim })
    return sendJson(c, (await q.collect()).toJSON())
  })

  return app
}
