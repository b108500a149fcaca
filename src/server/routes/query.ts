import { Hono } from 'hono'
import type { Context } from 'hono'
import { stream } from 'hono/streaming'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { JsonQuerySchema, queryFromJson } from '../../query/json-query.ts'
import type { OperationDoc } from '../openapi.ts'
import { requireAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { errorPayload } from '../errors.ts'
import { jsonReplacer, sendJson } from '../json.ts'
import { TABLE } from './tables.ts'

// Queries in the JSON expression form. `Accept: application/x-ndjson` streams rows one JSON line each (pinned at
// the version current when the stream starts), so a large result never has to fit in memory on either side. A
// failure before the first row is an ordinary error response; after it, the status is sent already, so the stream
// ends with one line {"$error": {code, message}} (no column name starts with '$'), never a silent truncation.

export const queryDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/query', summary: 'Run a query (Accept: application/x-ndjson streams rows)', tag: 'query', body: JsonQuerySchema, query: ['batchSize'] },
  { method: 'post', path: '/api/v1/tables/{path}/-/query', summary: 'Run a query on one table', tag: 'query', body: JsonQuerySchema },
]

export function queryRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  const run = async (c: Context<AuthEnv>, body: Record<string, unknown>) => {
    const tables = [body.table, ...(Array.isArray(body.joins) ? body.joins.map((j: { table?: unknown }) => j?.table) : [])]
    for (const t of tables) if (typeof t === 'string') requireAccess(c.var.principal, parsePath(t, { allowVersion: true }).path, 'read')
    const query = await queryFromJson(db, body)
    if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      c.header('content-type', 'application/x-ndjson; charset=utf-8')
      const batchSize = Math.min(Number(c.req.query('batchSize') ?? 1000), 10000)
      const rows = query.stream({ batchSize })[Symbol.asyncIterator]()
      const first = await rows.next()
      return stream(c, async (s) => {
        for (let r = first; !r.done; r = await rows.next()) await s.write(JSON.stringify(r.value, jsonReplacer) + '\n')
      }, async (e, s) => {
        await s.write(JSON.stringify({ $error: errorPayload(e) }) + '\n')
      })
    }
    if (body.count === true) return c.json({ count: await query.count() })
    return sendJson(c, (await query.collect()).toJSON())
  }

  app.post('/query', async (c) => run(c, await readBody(c)))
  app.post(`/tables/${TABLE}/-/query`, async (c) => run(c, { ...(await readBody(c)), table: c.req.param('path') }))
  return app
}

async function readBody(c: { req: { text(): Promise<string> } }): Promise<Record<string, unknown>> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    const parsed = JSON.parse(text)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed
  } catch { /* fall through */ }
  const { invalid } = await import('../../errors.ts')
  throw invalid('INVALID_ARGUMENT', 'query body must be a JSON object')
}
