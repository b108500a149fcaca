import { Hono } from 'hono'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { plainRows, requireCallerQuery, tablesRead, withCaller } from '../../ai/index.ts'
import type { Caller } from '../../ai/index.ts'
import { errorOf, invalid, TesseraError } from '../../errors.ts'
import { asReadOnlyWork } from '../../media/index.ts'
import { or } from '../../query/index.ts'
import type { Query } from '../../query/index.ts'
import type { DeclaredRoute, RouteContext } from '../../setup/index.ts'
import { canAccess } from '../auth.ts'
import { assertCanTouch } from '../tenant.ts'
import type { AuthEnv, Principal } from '../auth.ts'
import { readJson, sendJson } from '../json.ts'
import { readJsonValue, refuseNonFiniteNumbers, tooLarge } from '../request.ts'
import type { OperationDoc } from '../openapi.ts'

// Serves the routes a setup file declares (route.insert / route.query / route.call) at POST /api/v1/app/<path>,
// inside the API's auth: every table a route touches is checked against the caller's token, as the generic routes
// do. Parameters are validated with the route's valibot schema before anything runs; results are checked against
// its result schema, so a route answers the types its OpenAPI entry promises.

/** Most rows one request to a declared route carries or answers; the server's own limits can only lower it. */
const MAX_ROWS = 10_000

/** The principal as src/ai checks it when a retrieval function reads tables on a request's behalf. */
export const callerOf = (p: Principal, db: Tessera): Caller => ({
  name: `token '${p.name}'`, canRead: (path) => canAccess(p, path, 'read'), ...(p.admin ? {} : { readable: p.scopes.map((s) => s.prefix) }),
  database: db.driver,
})

export function declaredRouteDocs(routes: readonly DeclaredRoute[]): OperationDoc[] {
  return routes.map((r) => ({
    method: 'post' as const, path: `/api/v1/app${r.path}`, tag: 'app',
    // Not the table's name: this document is open to everyone (app.ts).
    summary: r.description ?? (r.kind === 'insert' ? 'Insert rows (a declared insert route)' : r.kind === 'query' ? 'Run a declared query' : 'Call a declared function'),
    ...(r.kind === 'insert' ? { body: v.union([r.params ?? v.record(v.string(), v.unknown()), v.object({ rows: v.array(r.params ?? v.record(v.string(), v.unknown())) })]) } : { body: r.params }),
  }))
}

/** What a value is, for a message that must not show the value itself (a route's result can hold anything). */
const kindOf = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? 'an object' : `a ${typeof x}`)

/**
 * A result that does not match the route's declared schema is the route's bug, not the caller's: an INTERNAL error
 * (500), as any bug is, but a TesseraError whose message names the route, the field and what was expected, so the
 * answer says what is wrong instead of "see the server log". It shows what the schema expected and the kind of value
 * found, never the value (valibot's own message quotes it, and a result can hold what the schema meant to keep out).
 */
function checkResult(route: DeclaredRoute, schema: v.GenericSchema | undefined, value: unknown, what: string): void {
  if (!schema) return
  const r = v.safeParse(schema, value)
  if (!r.success) {
    const issue = r.issues[0]
    const field = issue.path?.map((p) => String(p.key)).join('.')
    // valibot reports a missing object key as the object's issue, expecting the key's name: say "missing" instead.
    const mismatch = issue.kind === 'schema' && issue.input === undefined
      ? 'missing (the route gave nothing there)'
      : issue.kind === 'schema'
      ? `expected ${issue.expected ?? issue.type}, got ${kindOf(issue.input)}`
      : `its ${issue.type.replaceAll('_', ' ')} check failed${issue.expected ? ` (expected ${issue.expected})` : ''}`
    throw errorOf('INTERNAL', `route ${route.path}: ${what}${field ? ` field '${field}'` : ''} does not match its declared result: ${mismatch} (a bug in the route, not in the request)`, { route: route.path, ...(field ? { field } : {}) })
  }
}

/** What a thrown value is, for a message that must not show it. */
const thrownKind = (x: unknown): string => (x instanceof Error ? 'an error' : x === undefined ? 'undefined, not an Error' : `${kindOf(x)}, not an Error`)

/**
 * Runs the route's own code. What it throws is the route's failure, not the request's: an INTERNAL error that names
 * the route (the thrown value goes to the server log, never into the answer, which must not show the server's
 * internals). The errors the API answers by their own code pass through: a TesseraError (a table the route reads is
 * missing, a check it made itself), a valibot error, an HTTP exception.
 */
async function runRoute<T>(route: DeclaredRoute, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw routeFailure(route, e)
  }
}

function routeFailure(route: DeclaredRoute, e: unknown): unknown {
  if (e instanceof TesseraError || e instanceof v.ValiError || e instanceof HTTPException) return e
  console.error(`route ${route.path} failed (it threw ${thrownKind(e)}):`, e)
  return errorOf('INTERNAL', `route ${route.path} failed: it threw ${thrownKind(e)} (a bug in the route, not in the request); see the server log`, { route: route.path })
}

/** The route's result as a JSON answer; a value JSON cannot hold (a BigInt, a cycle) is the route's bug, named as such. */
function sendResult(c: Context<AuthEnv>, route: DeclaredRoute, result: unknown): Response {
  try {
    return sendJson(c, result)
  } catch (e) {
    // JSON.stringify's own refusals are TypeErrors naming what it cannot write (never the value); anything else was
    // thrown by the route's own toJSON.
    if (!(e instanceof TypeError)) throw routeFailure(route, e)
    throw errorOf('INTERNAL', `route ${route.path}: its result cannot be sent as JSON: ${e.message} (a bug in the route, not in the request)`, { route: route.path })
  }
}

function context(db: Tessera, route: DeclaredRoute, principal: Principal): RouteContext {
  return {
    db,
    table: async (path: string, access: 'read' | 'write' = 'read') => {
      const full = route.qualify(path)
      assertCanTouch(principal, parsePath(full, { allowVersion: access === 'read' }).path, access)
      return db.getTable(full)
    },
  }
}

async function insert(c: Context<AuthEnv>, db: Tessera, route: Extract<DeclaredRoute, { kind: 'insert' }>): Promise<Response> {
  assertCanTouch(c.var.principal, route.table, 'write')
  // The server's --max-insert-rows holds here as on POST …/-/rows.
  const max = Math.min(MAX_ROWS, c.var.limits.maxInsertRows)
  const shape = `send one row as a JSON object, or {"rows": [...]} with 1 to ${max} of them`
  // A JSON array would pass a record schema as a row of columns named '0', '1', …
  const raw = await readJsonValue(c)
  if (Array.isArray(raw)) throw invalid('INVALID_ARGUMENT', `route ${route.path}: the body is a JSON array; ${shape}`)
  const body = v.parse(v.record(v.string(), v.unknown()), raw ?? {})
  const rows = (Array.isArray(body.rows) ? body.rows : [body]) as Record<string, unknown>[]
  if (rows.length === 0) throw invalid('INVALID_ARGUMENT', `route ${route.path}: the body holds no rows; ${shape}`)
  if (rows.length > max) throw tooLarge(`route ${route.path}: ${rows.length} rows in one request, more than ${max} (limit): send them in smaller requests`, { limit: max })
  const notObject = rows.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r))
  if (notObject >= 0) throw invalid('INVALID_ROW', `route ${route.path}: row ${notObject} is ${rows[notObject] === null ? 'null' : Array.isArray(rows[notObject]) ? 'an array' : `a ${typeof rows[notObject]}`}, not an object; ${shape}`, { row: notObject })
  const checked = route.params ? rows.map((r, i) => {
    const p = v.safeParse(route.params!, r)
    if (!p.success) {
      const issue = p.issues[0]
      throw invalid('INVALID_ROW', `route ${route.path}: row ${i}${issue.path ? `, field '${issue.path.map((x) => String(x.key)).join('.')}'` : ''}: ${issue.message}`, { row: i })
    }
    return p.output as Record<string, unknown>
  }) : rows
  refuseNonFiniteNumbers(checked)
  const t = await db.getTable(route.table)
  // What `returns` needs is checked before the insert: failing after it would answer an error for rows that were
  // written. route.insert refuses a table without a primary key when it sees the table; this covers a route declared
  // by path, and a table changed since (a returned column dropped). The route is at fault, not the request: INTERNAL.
  const pk = t.columns().filter((col) => col.primaryKey).map((col) => col.name)
  if (route.returns?.length) {
    if (pk.length === 0) throw errorOf('INTERNAL', `route ${route.path}: returns needs a primary key on ${route.table} to read the inserted rows back, and it has none; nothing was inserted (declare the route without returns, or give the table a primary key)`, { route: route.path })
    const missing = route.returns.filter((n) => !(n in t.schema()))
    if (missing.length) throw errorOf('INTERNAL', `route ${route.path}: returns names ${missing.map((n) => `'${n}'`).join(', ')}, which ${route.table} does not have; nothing was inserted`, { route: route.path })
  }
  const st = await t.insert(checked)
  if (!route.returns?.length) return c.json({ inserted: st.numInserted, version: st.version })
  const match = or(...checked.map((r) => pk.map((k) => t.col(k).eq(r[k] as never)).reduce((a, b) => a.and(b))))
  const back = await t.where(match).select(Object.fromEntries([...pk, ...route.returns].map((n) => [n, t.col(n)]))).collect()
  return sendJson(c, { inserted: st.numInserted, version: st.version, rows: plainRows(back.rows) })
}

/**
 * A query route's rows, at most MAX_ROWS and the server's --max-answer-rows. A query that would answer more is
 * refused (checked by reading one row more), not cut to the cap without a word: the caller could not tell a
 * truncated answer from a whole one.
 */
async function answerRows(c: Context<AuthEnv>, route: DeclaredRoute, q: Query) {
  const max = Math.min(MAX_ROWS, c.var.limits.maxAnswerRows)
  if (q.spec.limit !== undefined && q.spec.limit <= max) return q.collect()
  const rs = await q.limit(max + 1).collect()
  if (rs.rows.length > max) throw tooLarge(`route ${route.path}: its query answers more than ${max} rows (the cap on one answer of a declared route); ask for fewer (a parameter the route passes to limit), or give the route's query a limit`, { limit: max })
  return rs
}

export function declaredRoutes(db: Tessera, routes: readonly DeclaredRoute[]) {
  const app = new Hono<AuthEnv>()
  for (const route of routes) {
    app.post(`/app${route.path}`, async (c) => {
      if (route.kind === 'insert') return insert(c, db, route)
      const params = await readJson(c, route.params)
      const principal = c.var.principal
      const ctx = context(db, route, principal)
      return withCaller(callerOf(principal, db), async () => {
        if (route.kind === 'query') {
          // A query route only reads: images it derives go to the bounded cache, as POST /query's do (src/media/access.ts).
          return asReadOnlyWork(async () => {
            const q = await runRoute(route, () => route.fn(params, ctx))
            requireCallerQuery(q, [], `route ${route.path}`)
            for (const t of tablesRead(q)) assertCanTouch(principal, t, 'read')
            const rows = plainRows((await answerRows(c, route, q)).rows)
            rows.forEach((r, i) => checkResult(route, route.result, r, `row ${i}`))
            return sendJson(c, { rows })
          })
        }
        const result = await runRoute(route, () => route.fn(params, ctx))
        checkResult(route, route.result, result, 'the result')
        return sendResult(c, route, result ?? null)
      })
    })
  }
  return app
}
