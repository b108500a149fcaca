import { Hono } from 'hono'
import * as v from 'valibot'
import { KeysetRequestSchema, QueryAnswerSchema, QueryParams, QueryRequestSchema, queryFromJson } from '../../api/index.ts'
import type { KeysetRequest, QueryAnswer } from '../../api/index.ts'
import type { Context } from 'hono'
import { stream } from 'hono/streaming'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { containsAggregate, keysetEligible, keysetPageOf, withWorkBound } from '../../query/index.ts'
import type { Query, WorkBound } from '../../query/index.ts'
import type { OperationDoc } from '../openapi.ts'
import type { AuthEnv } from '../auth.ts'
import { invalid } from '../../errors.ts'
import { errorPayload, streamErrorRecord } from '../errors.ts'
import { jsonReplacer, readJsonObject, sendRows } from '../json.ts'
import { checkQueryLimits, readParams, tooLarge } from '../request.ts'
import type { RequestLimits } from '../request.ts'
import { assertCanTouch } from '../tenant.ts'
import { TABLE } from './tables.ts'
import { bulkReads } from '../../store/index.ts'

// Queries in the JSON expression form. `Accept: application/x-ndjson` streams rows one JSON line each (pinned at
// the version current when the stream starts; its pages read as bulk reads, after interactive reads and writes), so a
// large result never has to fit in memory on either side. A failure before the first row is an ordinary error
// response; after it, the status is sent already, so the stream ends with one line {"$error": {code, message}} (no
// column name starts with '$'), never a silent truncation.
// A plain JSON answer holds at most maxAnswerRows rows; larger results are streamed or paged. A query over one table
// in insertion order pages by keyset (what the HTTP client's stream() sends): `"keyset": {}` answers the first page
// and, when the page filled its limit, `"keyset": {"after": position}` to send back for the rows after it; each page
// reads the rows after the last one returned, where `offset` would read and skip every row before it.

export const queryDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/query', summary: 'Run a query (Accept: application/x-ndjson streams rows)', tag: 'query', body: QueryRequestSchema, params: QueryParams, answer: QueryAnswerSchema },
  { method: 'post', path: '/api/v1/tables/{path}/-/query', summary: 'Run a query on one table', tag: 'query', body: QueryRequestSchema, params: QueryParams, answer: QueryAnswerSchema },
]

/**
 * The work bound of a query a request sent (src/query/work-bound.ts): a query with joins is planned first and refused
 * when a join is estimated beyond --max-join-rows (PGlite cannot stop a statement once it runs), and on a PostgreSQL
 * store it runs under --max-query-ms. The server's limits; in-process library queries are unbounded.
 */
export const requestWorkBound = (limits: RequestLimits): WorkBound => ({ maxJoinRows: limits.maxJoinRows, statementTimeoutMs: limits.maxQueryMs })

/**
 * Reads, checks (size limits, the caller's read access to every table) and builds a JSON query, bounded by the
 * server's work bound (requestWorkBound) in every way it runs: an answer, a count, a stream's or an export's pages.
 */
export async function queryFromRequest(db: Tessera, c: Context<AuthEnv>, body: Record<string, unknown>): Promise<Query> {
  checkQueryLimits(body)
  const tables = [body.table, ...(Array.isArray(body.joins) ? body.joins.map((j: { table?: unknown } | null) => j?.table) : [])]
  for (const t of tables) if (typeof t === 'string') assertCanTouch(c.var.principal, parsePath(t, { allowVersion: true }).path, 'read')
  return withWorkBound(await queryFromJson(db, body), requestWorkBound(c.var.limits))
}

/** The query's rows as a JSON answer, refused beyond the row cap (checked by reading one row more than allowed). */
export async function boundedRows(c: Context<AuthEnv>, query: Query, requested: number | undefined) {
  const max = c.var.limits.maxAnswerRows
  const advice = `stream it (Accept: application/x-ndjson, or POST /api/v1/export) or page it with limit and keyset (one table in insertion order) or offset`
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

/** A request's keyset, checked: bad input is a 400 naming the field (keyset, keyset.after), never the store's error. */
function keysetOf(x: unknown): KeysetRequest | undefined {
  if (x === undefined) return undefined
  // valibot's objects take an array (it is an object); a keyset is never one.
  const parsed = v.safeParse(KeysetRequestSchema, Array.isArray(x) ? null : x)
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  const keys = (issue.path ?? []).map((p) => String(p.key))
  const path = ['keyset', ...keys].join('.')
  const message = keys.length === 1 && keys[0] !== 'after' ? `unknown key '${keys[0]!.slice(0, 40)}' (a keyset holds only after)` : issue.message
  throw invalid('INVALID_ARGUMENT', `${path}: ${message}`, { path })
}

/** Why a query cannot page by keyset (what stream() pages by offset instead), or undefined when it can. */
function notKeysetPaged(query: Query): string | undefined {
  const s = query.spec
  if (keysetEligible(s)) return undefined
  const part = s.joins.length > 0 ? 'joins' : s.orderBy.length > 0 ? 'orderBy' : s.groupBy?.length ? 'groupBy' : s.distinct ? 'distinct'
    : s.sample ? 'sample' : s.offset ? 'offset' : 'insertionOrder "desc"'
  return `keyset paging reads one table in insertion order, so a query with ${part} cannot page by keyset; page it with limit and offset`
}

/**
 * One keyset page of the query (POST /query with keyset): at most `limit` rows (the JSON answer cap without one) after
 * the row at keyset.after, and the next page's keyset when this one filled its limit. The position only moves where
 * the page starts within this query's rows (rows whose _rowid is greater), so it reads nothing the query could not.
 */
async function keysetAnswer(c: Context<AuthEnv>, query: Query, keyset: KeysetRequest, requested: number | undefined): Promise<QueryAnswer> {
  const why = notKeysetPaged(query)
  if (why) throw invalid('INVALID_ARGUMENT', `keyset: ${why}`, { path: 'keyset' })
  const max = c.var.limits.maxAnswerRows
  if (requested !== undefined && requested > max) throw tooLarge(`limit ${requested} is more than ${max} rows (the cap on one JSON answer): ask for smaller keyset pages`, { limit: max })
  const limit = requested ?? max
  // An aggregate over the whole table is one row, with no position to page after: the first page is all of it.
  if ((query.spec.select ?? []).some((i) => containsAggregate(i.expr))) {
    if (keyset.after !== undefined) throw invalid('INVALID_ARGUMENT', 'keyset.after: this query aggregates its rows into one, which has no row position to page after; its first page ({}) is the whole answer', { path: 'keyset.after' })
    return (await query.limit(limit).collect()).toJSON() as QueryAnswer
  }
  const page = await keysetPageOf(query.limit(limit), keyset.after)!
  const rows = page.result.toJSON() as QueryAnswer
  return page.lastRowid !== undefined && rows.rows.length >= limit && limit > 0 ? { ...rows, keyset: { after: page.lastRowid } } : rows
}

export function queryRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  const run = async (c: Context<AuthEnv>, request: Record<string, unknown>) => {
    const { batchSize } = readParams(c, QueryParams)
    // head/tail (n rows in insertion order, as Query.head/tail) and keyset (a page after a row position) are read
    // here; the rest is the query's JSON form.
    const { head, tail, keyset: keysetBody, ...body } = request
    const ends = endsOf(c, head, tail)
    const keyset = keysetOf(keysetBody)
    const ndjson = (c.req.header('accept') ?? '').includes('application/x-ndjson')
    // head/tail answer rows and a count answers a number: one request asks for one (head with count answered the
    // rows, the count dropped without a word), and a count is a JSON answer, never a stream of the rows.
    if (body.count === true && (ends || ndjson)) {
      const other = ends ? (ends.head !== undefined ? 'head' : 'tail') : 'an NDJSON stream (Accept: application/x-ndjson)'
      throw invalid('INVALID_ARGUMENT', `count: a count answers {"count": n}; it cannot be combined with ${other}`, { path: 'count' })
    }
    if (keyset && (ends || body.count === true || ndjson)) {
      const other = ends ? (ends.head !== undefined ? 'head' : 'tail') : body.count === true ? 'count' : 'an NDJSON stream (which pages itself)'
      throw invalid('INVALID_ARGUMENT', `keyset: a keyset page is a JSON answer of the query's rows; it cannot be combined with ${other}`, { path: 'keyset' })
    }
    const query = await queryFromRequest(db, c, body)
    if (ends) return sendRows(c, (await (ends.head !== undefined ? query.head(ends.head) : query.tail(ends.tail))).toJSON())
    if (keyset) return sendRows(c, await keysetAnswer(c, query, keyset, typeof body.limit === 'number' ? body.limit : undefined))
    if (ndjson) {
      c.header('content-type', 'application/x-ndjson; charset=utf-8')
      const rows = query.stream({ batchSize })[Symbol.asyncIterator]()
      // Each page is a bulk read (src/store/scheduler.ts): interactive reads, writes and jobs go before the next one,
      // so a long stream holds up neither (a page over a big table can take as long as reading the whole table).
      const next = () => bulkReads(() => rows.next())
      const first = await next()
      return stream(c, async (s) => {
        try {
          // A client gone stops the reading: the rest of the table is not read for nobody.
          // Checked again before reading on, so a client gone during a write never has the next page read for it.
          for (let r = first; !r.done && !s.aborted; r = s.aborted || c.req.raw.signal.aborted ? { done: true, value: undefined } : await next()) {
            await s.write(JSON.stringify(r.value, jsonReplacer) + '\n')
          }
        } finally {
          // Ended, failed or abandoned: the stream's versions are released from their hold against compaction now.
          await rows.return?.(undefined)
        }
      }, async (e, s) => {
        await s.write(streamErrorRecord('jsonl', errorPayload(e)))
      })
    }
    if (body.count === true) return c.json({ count: await query.count() })
    return sendRows(c, (await boundedRows(c, query, typeof body.limit === 'number' ? body.limit : undefined)).toJSON())
  }

  app.post('/query', async (c) => run(c, await readJsonObject(c)))
  app.post(`/tables/${TABLE}/-/query`, async (c) => run(c, { ...(await readJsonObject(c)), table: c.req.param('path') }))
  return app
}
