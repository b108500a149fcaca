import { Hono } from 'hono'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { errorPayload, streamErrorRecord } from '../errors.ts'
import { exportQuery, importData, recordWatch } from '../../io/index.ts'
import { bulkReads } from '../../store/index.ts'
import type { ExportFormat } from '../../io/index.ts'
import type { AuthEnv } from '../auth.ts'
import { readJsonObject } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { ExportParams, ImportParams, NameSchema } from '../../api/index.ts'
import { readParams } from '../request.ts'
import { assertCanTouch } from '../tenant.ts'
import { spoolUpload } from '../upload-spool.ts'
import { queryFromRequest } from './query.ts'
import { TABLE } from './tables.ts'

// Data in and out over HTTP, streamed both ways: an upload is spooled to a file as it arrives and imported from it
// (the one route the body size limit does not apply to; --max-import-bytes bounds it), an export is written into the response as it is read (pinned at one
// version). An export that fails before its first byte is an ordinary error response; one that fails later ends
// the stream cleanly with an error record (JSON Lines: {"$error": {...}}; CSV: a last line "$error,CODE,message";
// Parquet: the file ends without its footer, so no reader takes it for complete), never with a reset connection.


export const ioDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/tables/{path}/-/import', summary: 'Stream a CSV/TSV/JSON/JSONL/Parquet body into a table (created from inferred types when missing); all or nothing unless onBadRow=skip', tag: 'io', params: ImportParams },
  { method: 'post', path: '/api/v1/export', summary: 'Stream a query result (JSON query body) as JSONL, CSV or Parquet', tag: 'io', params: ExportParams },
]

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet',
}

function errorRecord(format: ExportFormat, e: unknown): Uint8Array | undefined {
  const err = errorPayload(e)
  return format === 'parquet' ? undefined : new TextEncoder().encode(streamErrorRecord(format, err))
}

export function ioRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.post(`/tables/${TABLE}/-/import`, async (c) => {
    const path = parsePath(c.req.param('path')).path
    const params = readParams(c, ImportParams)
    const format = params.format
    const primaryKey = params.primaryKey?.split(',').map((k) => v.parse(NameSchema, k.trim()))
    const { onBadRow, createTable, batchSize } = params
    assertCanTouch(c.var.principal, path, 'write')
    const body = c.req.raw.body
    if (!body) return c.json({ error: { code: 'INVALID_ARGUMENT', message: 'the request body holds the file to import' } }, 400)
    // Bun's server hands over the body as sent: a gzip-compressed upload is decompressed by the import.
    const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase()
    if (encoding !== 'identity' && encoding !== 'gzip') {
      return c.json({ error: { code: 'INVALID_ARGUMENT', message: `Content-Encoding '${encoding}' is not read; send the file as it is or gzip-compressed` } }, 400)
    }
    // Text formats are read as they stream: spooled first, the import (and its hold on the table's writes) starts once
    // the whole upload is here, never waiting on the client (upload-spool.ts). Parquet spools itself.
    const name = `upload to ${path}`
    const maxBytes = c.var.limits.maxImportBytes
    // A gzip upload's bytes are not its text: its records are bounded by the import alone.
    const spooled = format === 'parquet' ? undefined : await spoolUpload(body, maxBytes, name, encoding === 'gzip' ? undefined : recordWatch(format))
    const result = await importData(db, path, spooled ? spooled.chunks() : body, {
      format,
      name,
      maxBytes,
      ...(encoding === 'gzip' ? { encoding } : {}),
      ...(primaryKey ? { primaryKey } : {}),
      ...(onBadRow === 'skip' ? { onBadRow: 'skip' as const } : {}),
      ...(createTable === false ? { createTable: false } : {}),
      ...(batchSize ? { batchSize } : {}),
      signal: c.req.raw.signal,
    }).finally(() => spooled?.remove())
    return c.json(result, 201)
  })

  app.post('/export', async (c) => {
    const { format, batchSize } = readParams(c, ExportParams)
    const query = await queryFromRequest(db, c, await readJsonObject(c))
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>()
    const out = writable.getWriter()
    // The response starts with the first byte the export writes; a failure before it is answered as an error.
    let started = false
    let markStarted!: () => void
    const firstByte = new Promise<void>((resolve) => { markStarted = resolve })
    const sink = new WritableStream<Uint8Array>({
      write: (chunk) => {
        started = true
        markStarted()
        return out.write(chunk)
      },
      close: () => {
        markStarted()
        return out.close()
      },
      // exportQuery aborts its sink on failure; the failure is handled below, so the response is not reset.
      abort: () => undefined,
    })
    // Its pages are bulk reads (src/store/scheduler.ts): interactive reads, writes and jobs go before each next page,
    // so an export of a big table holds up neither (a 10-row update waited 6.2 s behind one, 179 ms after).
    const done = bulkReads(() => exportQuery(query, sink, { format, batchSize })).then(() => undefined, async (e: unknown) => {
      if (!started) return e
      // The client went away (its connection closed, so writes into the response failed): nobody to tell, and not a bug.
      if (c.req.raw.signal.aborted) return undefined
      const record = errorRecord(format, e)
      if (record) await out.write(record).catch(() => undefined)
      await out.close().catch(() => undefined)
      return undefined
    })
    const early = await Promise.race([firstByte.then(() => undefined), done])
    if (early !== undefined) {
      await out.abort().catch(() => undefined)
      throw early
    }
    return new Response(readable, { headers: { 'content-type': CONTENT_TYPES[format] } })
  })

  return app
}
