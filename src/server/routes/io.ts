import { Hono } from 'hono'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { exportQuery, importData } from '../../io/index.ts'
import type { ExportFormat } from '../../io/index.ts'
import { queryFromJson } from '../../query/json-query.ts'
import { requireAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { boolQuery } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { TABLE } from './tables.ts'

// Data in and out over HTTP, streamed both ways: an upload goes into importData as it arrives, an export is
// written into the response as it is read (pinned at one version).

const Format = v.picklist(['csv', 'tsv', 'json', 'jsonl', 'parquet'])
const ExportFormatSchema = v.picklist(['jsonl', 'csv', 'parquet'])

export const ioDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/tables/{path}/-/import', summary: 'Stream a CSV/TSV/JSON/JSONL/Parquet body into a table (created from inferred types when missing); all or nothing unless onBadRow=skip', tag: 'io', query: ['format', 'primaryKey', 'onBadRow', 'createTable', 'batchSize'] },
  { method: 'post', path: '/api/v1/export', summary: 'Stream a query result (JSON query body) as JSONL, CSV or Parquet', tag: 'io', query: ['format'] },
]

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet',
}

export function ioRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.post(`/tables/${TABLE}/-/import`, async (c) => {
    const path = c.req.param('path')
    requireAccess(c.var.principal, parsePath(path).path, 'write')
    const format = v.parse(Format, c.req.query('format'))
    const primaryKey = c.req.query('primaryKey')
    const batchSize = c.req.query('batchSize')
    const body = c.req.raw.body
    if (!body) return c.json({ error: { code: 'INVALID_ARGUMENT', message: 'the request body holds the file to import' } }, 400)
    const result = await importData(db, path, body, {
      format,
      name: `upload to ${path}`,
      ...(primaryKey ? { primaryKey: primaryKey.split(',') } : {}),
      ...(c.req.query('onBadRow') === 'skip' ? { onBadRow: 'skip' as const } : {}),
      ...(boolQuery(c.req.query('createTable')) === false ? { createTable: false } : {}),
      ...(batchSize ? { batchSize: Number(batchSize) } : {}),
      signal: c.req.raw.signal,
    })
    return c.json(result, 201)
  })

  app.post('/export', async (c) => {
    const format = v.parse(ExportFormatSchema, c.req.query('format') ?? 'jsonl')
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>
    const tables = [body.table, ...(Array.isArray(body.joins) ? body.joins.map((j: { table?: unknown }) => j?.table) : [])]
    for (const t of tables) if (typeof t === 'string') requireAccess(c.var.principal, parsePath(t, { allowVersion: true }).path, 'read')
    const query = await queryFromJson(db, body)
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>()
    // Errors after the first byte cannot change the status any more; they end the stream early.
    void exportQuery(query, writable, { format }).catch(() => writable.abort().catch(() => undefined))
    return new Response(readable, { headers: { 'content-type': CONTENT_TYPES[format] } })
  })

  return app
}
