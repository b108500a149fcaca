import { Hono } from 'hono'
import { QueryAnswerSchema, QueryParams, QueryRequestSchema, queryFromJson } from '../../api/index.ts'
import type { Context } from 'hono'
import { stream } from 'hono/streaming'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import type { Query } from '../../query/index.ts'
import type { OperationDoc } from '../openapi.ts'
import type { AuthEnv } from '../auth.ts'
import { invalid } from '../../errors.ts'
import { errorPayload } from '../errors.ts'
import { jsonReplacer, readJsonObject, sendRows } from '../json.ts'
import { checkQueryLimits, readParam, tooLarge } from '../request.ts'
import { assertCanTouch } from '../tenant.ts'
import { TABLE } from './tables.ts'
import { bulkReads } from '../../store/index.ts'

// Queries in the JSON expression form. `Accept: application/x-ndjson` streams rows one JSON line each (pinned at
// the version current when the stream starts; its pages read as bulk reads, after interactive reads and writes), so a
// large result never has to fit in memory on either side. A failure before the first row is an ordinary error
// response; after it, the status is sent already, so the stream ends with one line {"$error": {code, message}} (no
// column name starts with '$'), never a silent truncation.
// A plain JSON answer holds at most maxAnswerRows rows; larger results are streamed or paged.

export const queryDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/query', summary: 'Run a query (Accept: application/x-ndjson streams rows)', tag: 'query', body: QueryRequestSchema, params: QueryParams, answer: QueryAnswerSchema },
  { method: 'post', path: '/api/v1/tables/{path}/-/query', summary: 'Run a query on one table', tag: 'query', body: QueryRequestSchema, params: QueryParams, answer: QueryAnswerSchema },
]

/** Reads, checks (size limits, the caller's read access to every table) and builds a JSON query. */
export async function queryFromRequest(db: Tessera, c: Context<AuthEnv>, body: Record<string, unknown>): Promise<Query> {
  checkQueryLimits(body)
  const tables = [body.table, ...(Array.isArray(body.joins) ? body.joins.map((j: { table?: unknown } | null) => j?.table) : [])]
  for (const t of tables) if (typeof t === 'string') assertCanTouch(c.var.principal, parsePath(t, { allowVersion: true }).path, 'read')
  return queryFromJson(db, body)
}

/** The query's rows as a JSON answer, refused beyond the row cap (checked by reading one row more than allowed). */
export async function boundedRows(c: Context<AuthEnv>, query: Query, requested: number | undefined) {
  const max = c.var.limits.maxAnswerRows
  const advice = `stream it (Accept: application/x-ndjson, or POST /api/v1/export) or page it with limit and offset`
  if (requested !== undefined && requested > max) throw tooLarge(`limit ${requested} is more than ${max} rows (the cap on one JSON answer): ${advice}`, { limit: max })
  const rs = await (requested === undefined ? query.limit(max + 1) : query).collect()
  if (rs.rows.length > max) throw tooLarge(`the answer has more than ${max} rows (the cap on one JSON answer): ${advice}`, { limit: max })
  return rs
}

/** A body's head or tail: at most one, a count up to the JSON answer cap. */
function endsOf(c: Context<AuthEnv>, head: unknown, tail: unknown): { head: number; tail?: never } | { head?: never; tail: number } | undefined {
  if (head === undefined && tail === undefined) return undefined
  if (head !== undefined && tail !== undefined) throw invalid('INVALID_ARGUMENT', 'give head or tail, not both', { path: 'head' })
  const [key, n] = head !== undefined ? ['head', head] as const : ['tail', tail] as const
  const max = c.var.limits.maxAnswerRows
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw invalid('INVALID_ARGUMENT', `${key}: expected a row count from 0 to ${max}`, { path: key })
  return key === 'head' ? { head: n } : { tail: n }
}

export function queryRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  const run = async (c: Context<AuthEnv>, request: Record<string, unknown>) => {
    const batchSize = readParam(c, 'batchSize', QueryParams.batchSize)
    // head/tail (n rows in insertion order, as Query.head/tail) are read here; the rest is the query's JSON form.
    const { head, tail, ...body } = request
    const ends = endsOf(c, head, tail)
    const query = await queryFromRequest(db, c, body)
    if (ends) return sendRows(c, (await (ends.head !== undefined ? query.head(ends.head) : query.tail(ends.tail))).toJSON())
    if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      c.header('content-type', 'application/x-ndjson; charset=utf-8')
      const rows = query.stream({ batchSize })[Symbol.asyncIterator]()
      // Each page is a bulk read (src/store/scheduler.ts): interactive reads, writes and jobs go before the next one,
      // so a long stream holds up neither (a page over a big table can take as long as reading the whole table).
      const next = () => bulkReads(() => rows.next())
      const first = await next()
      return stream(c, async (s) => {
        for (let r = first; !r.done; r = await next()) await s.write(JSON.stringify(r.value, jsonReplacer) + '\n')
      }, async (e, s) => {
        await s.write(JSON.stringify({ $error: errorPayload(e) }) + '\n')
      })
    }
    if (body.count === true) return c.json({ count: await query.count() })
    return sendRows(c, (await boundedRows(c, query, typeof body.limit === 'number' ? body.limit : undefined)).toJSON())
  }

  app.post('/query', async (c) => run(c, await readJsonObject(c)))
  app.post(`/tables/${TABLE}/-/query`, async (c) => run(c, { ...(await readJsonObject(c)), table: c.req.param('path') }))
  return app
}
