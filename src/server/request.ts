import type { Context } from 'hono'
import * as v from 'valibot'
import { EXPR_LIMITS, exprLimitIssue } from '../api/index.ts'
import type { ParamSpec, ParamSpecs, ParamValue, ParamValues } from '../api/index.ts'
import { errorOf, invalid } from '../errors.ts'
import { BodyDecoder, bodyReadFailed, DepthExceeded, jsonTextNestsDeeper, parseJsonStream } from './json-body.ts'

// The one request layer: every route reads its body, query parameters and path parameters through these helpers,
// so what reaches the engine has been checked against a schema with bounds (the request schemas of the API contract,
// src/api/requests.ts: integers in range, enums from a fixed list, names through the catalog's one name check,
// expressions within size limits). Anything that fails is a 4xx
// naming the parameter and the limit; a 5xx can only be a bug.

/** Limits an operator can change (tessera serve passes them through createApp's options). */
export interface RequestLimits {
  /** Largest request body in bytes (the streamed import route is exempt: it never holds the body). */
  readonly maxBodyBytes: number
  /**
   * Most bytes one streamed import (POST …/-/import) may read, counted after gzip decompression: it holds no body in
   * memory, but a gzip bomb would otherwise turn into rows or a Parquet spool file of any size.
   */
  readonly maxImportBytes: number
  /** Most rows one insert or batch-update request may carry. */
  readonly maxInsertRows: number
  /** Most rows a non-streamed query answer may hold (stream or page for more). */
  readonly maxAnswerRows: number
  /**
   * Most rows the store's planner may estimate a join of a request's query to produce (checked before it runs:
   * src/query/work-bound.ts); single-table queries are not checked.
   */
  readonly maxJoinRows: number
  /** PostgreSQL server store: the statement_timeout (ms) of a request's query with joins (PGlite cannot time one out). */
  readonly maxQueryMs: number
}

export const DEFAULT_LIMITS: RequestLimits = Object.freeze({
  maxBodyBytes: 64 * 1024 * 1024,
  maxImportBytes: 16 * 1024 ** 3,
  maxInsertRows: 100_000,
  maxAnswerRows: 100_000,
  maxJoinRows: 50_000_000,
  maxQueryMs: 120_000,
})

/** Any JSON body: nesting beyond this is refused before validation (expressions nest two levels per node). */
export const MAX_JSON_DEPTH = 2 * EXPR_LIMITS.depth + 16

const tooLarge = (message: string, details?: Record<string, unknown>) => errorOf('TOO_LARGE', message, details)
export { tooLarge }

// ---- bodies ----

const isJsonType = (type: string | undefined): boolean => {
  const t = (type ?? '').split(';')[0]!.trim().toLowerCase()
  return t === 'application/json' || /^application\/[\w.+-]+\+json$/.test(t)
}

/**
 * The request body as parsed JSON: an empty body is `undefined`; a non-empty one must be sent as application/json
 * (a cross-site form or text/plain POST cannot be), parse, and nest at most MAX_JSON_DEPTH levels. A big body (or one
 * of unknown length) is read, scanned and parsed in slices (json-body.ts), so other requests get the thread between.
 */
export async function readJsonValue(c: Context): Promise<unknown> {
  const mustBeJson = () => {
    if (!isJsonType(c.req.header('content-type'))) {
      throw errorOf('UNSUPPORTED_MEDIA_TYPE', `send the request body as JSON with 'content-type: application/json' (got '${(c.req.header('content-type') ?? 'none').slice(0, 60)}')`)
    }
  }
  const declared = Number(c.req.header('content-length') ?? Number.NaN)
  const body = c.req.raw.body
  if (body && !(declared <= SMALL_BODY_BYTES)) {
    try {
      return await parseJsonStream(body, { maxDepth: MAX_JSON_DEPTH, onContent: mustBeJson })
    } catch (e) {
      if (e instanceof DepthExceeded) throw tooDeep()
      throw e
    }
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer().catch((e: unknown) => { throw bodyReadFailed(e) }))
  const decoder = new BodyDecoder()
  const text = decoder.decode(bytes) + decoder.decode()
  if (text.trim() === '') return undefined
  mustBeJson()
  if (jsonTextNestsDeeper(text, MAX_JSON_DEPTH)) throw tooDeep()
  try {
    return JSON.parse(text)
  } catch (e) {
    throw invalid('INVALID_ARGUMENT', `request body is not valid JSON: ${(e as Error).message}`)
  }
}

const tooDeep = () => invalid('INVALID_ARGUMENT', `request body nests deeper than ${MAX_JSON_DEPTH} levels (limit; expressions may nest ${EXPR_LIMITS.depth} calls deep)`, { limit: MAX_JSON_DEPTH })

/** Bodies up to this many bytes (a few ms to parse) are read whole and parsed in one call: the common, small case. */
const SMALL_BODY_BYTES = 256 * 1024

/** A JSON object body (an empty body is `{}`), validated by `schema`. */
export async function readJson<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const body = await readJsonValue(c)
  return v.parse(schema, body === undefined ? {} : body)
}

/** A JSON object body, not validated further here (the query routes validate it with the query's own schema). */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJsonValue(c)
  if (body === undefined) return {}
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('INVALID_ARGUMENT', 'the request body must be a JSON object')
  return body as Record<string, unknown>
}

// ---- row values ----

/**
 * Refuses a number JSON cannot carry in rows read from a request body (insert, batch update: `row i, column 'c'`) or
 * in an update's values (`update, column 'c'`). JSON.parse reads a literal beyond the float range (1e309, -1e309) as
 * ±Infinity: a float column (double precision) stores that, but every JSON answer writes it as null, so the row read
 * back changed without a word. The HTTP API carries finite numbers only, as its client already refuses to send
 * others (src/client/remote.ts); the library keeps taking infinities in float columns, where they read back as stored.
 * Only top-level cells are looked at: a non-finite number inside an array or json value is refused by the column's
 * own type check.
 */
export function refuseNonFiniteNumbers(rows: readonly Record<string, unknown>[], options: { update?: boolean } = {}): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    for (const k in row) {
      const x = row[k]
      // x - x is 0 for every finite number, NaN for ±Infinity (JSON.parse gives no NaN): one test in the common case.
      if (typeof x !== 'number' || x - x === 0) continue
      const what = `a number beyond ±${Number.MAX_VALUE} reads as ${x}, which JSON answers cannot carry (it would read back as null); the HTTP API takes finite numbers only`
      if (options.update) throw invalid('INVALID_ROW', `update, column '${k}': ${what}`, { column: k })
      throw invalid('INVALID_ROW', `row ${i}, column '${k}': ${what}`, { row: i, column: k })
    }
  }
}

// ---- query bodies ----

/** Throws a 400 naming the limit when a query body's expressions or select list are too large. */
export function checkQueryLimits(body: Record<string, unknown>): void {
  const select = body.select
  const items = Array.isArray(select) ? select.length : select && typeof select === 'object' ? Object.keys(select).length : 0
  if (items > EXPR_LIMITS.selectItems) throw invalid('INVALID_EXPRESSION', `select: ${items} items, more than ${EXPR_LIMITS.selectItems} (limit)`, { path: 'select', limit: EXPR_LIMITS.selectItems })
  const exprs: [unknown, string][] = []
  if (Array.isArray(select)) select.forEach((s, i) => exprs.push([(s as { expr?: unknown } | null)?.expr, `select[${i}].expr`]))
  else if (select && typeof select === 'object') for (const [k, e] of Object.entries(select)) exprs.push([e, `select.${k}`])
  exprs.push([body.where, 'where'])
  if (Array.isArray(body.orderBy)) body.orderBy.forEach((o, i) => exprs.push([(o as { expr?: unknown } | null)?.expr, `orderBy[${i}].expr`]))
  if (Array.isArray(body.groupBy)) body.groupBy.forEach((g, i) => exprs.push([g, `groupBy[${i}]`]))
  if (Array.isArray(body.joins)) body.joins.forEach((j, i) => exprs.push([(j as { on?: unknown } | null)?.on, `joins[${i}].on`]))
  for (const [e, at] of exprs) {
    const issue = exprLimitIssue(e, at)
    if (issue) throw invalid('INVALID_EXPRESSION', issue, { path: at })
  }
  for (const key of ['orderBy', 'groupBy', 'joins'] as const) {
    const list = body[key]
    if (Array.isArray(list) && list.length > EXPR_LIMITS.selectItems) throw invalid('INVALID_EXPRESSION', `${key}: ${list.length} items, more than ${EXPR_LIMITS.selectItems} (limit)`, { path: key })
  }
}

// ---- query parameters ----

type Ctx = { req: { query(name: string): string | undefined } }

const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)

/** An integer query parameter in [min, max]; absent → `fallback`. */
export function intParam(c: Ctx, name: string, range: { min: number; max: number }, fallback: number): number
export function intParam(c: Ctx, name: string, range: { min: number; max: number }): number | undefined
export function intParam(c: Ctx, name: string, range: { min: number; max: number }, fallback?: number): number | undefined {
  const raw = c.req.query(name)
  if (raw === undefined) return fallback
  const n = /^-?\d{1,16}$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw invalid('INVALID_ARGUMENT', `query parameter '${name}' must be an integer from ${range.min} to ${range.max}, got ${shown(raw)}`, { parameter: name })
  }
  return n
}

/** A boolean query parameter: '', 'true', '1' → true; 'false', '0' → false; absent → undefined. */
export function boolParam(c: Ctx, name: string): boolean | undefined {
  const raw = c.req.query(name)
  if (raw === undefined) return undefined
  if (raw === '' || raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw invalid('INVALID_ARGUMENT', `query parameter '${name}' must be true or false, got ${shown(raw)}`, { parameter: name })
}

/** One of a fixed list of values (compared as strings: no prototype keys); absent → `fallback`. */
export function enumParam<T extends string>(c: Ctx, name: string, values: readonly T[], fallback: T): T
export function enumParam<T extends string>(c: Ctx, name: string, values: readonly T[]): T | undefined
export function enumParam<T extends string>(c: Ctx, name: string, values: readonly T[], fallback?: T): T | undefined {
  const raw = c.req.query(name)
  if (raw === undefined) return fallback
  if (!values.includes(raw as T)) throw invalid('INVALID_ARGUMENT', `query parameter '${name}' must be one of ${values.join(', ')}, got ${shown(raw)}`, { parameter: name })
  return raw as T
}

/**
 * A query parameter as the API contract describes it (src/api/params.ts): its kind, bounds and default. A required one
 * that is absent is refused naming what it takes.
 */
export function readParam<P extends ParamSpec>(c: Ctx, name: string, spec: P): ParamValue<P> {
  if (spec.required && c.req.query(name) === undefined) {
    throw invalid('INVALID_ARGUMENT', `query parameter '${name}' is required${spec.kind === 'enum' ? `: one of ${spec.values.join(', ')}` : ''}`, { parameter: name })
  }
  switch (spec.kind) {
    case 'int': return (spec.default === undefined ? intParam(c, name, spec) : intParam(c, name, spec, spec.default)) as ParamValue<P>
    case 'bool': return boolParam(c, name) as ParamValue<P>
    case 'enum': return (spec.default === undefined ? enumParam(c, name, spec.values) : enumParam(c, name, spec.values, spec.default)) as ParamValue<P>
    case 'string': return stringParam(c, name, spec.maxLength) as ParamValue<P>
  }
}

/** Taken by every route: the API token, for what cannot send an Authorization header (an EventSource, an <img>). */
const EVERY_ROUTE = ['token']

/** The request's query string, for the check of its names. */
type AllCtx = { req: { query(): Record<string, string> } }

const normalName = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')

/**
 * Refuses a query parameter the route does not take (its set, src/api/params.ts), naming it and the parameter it
 * looks like (primary_key → primaryKey): an unknown one is never silently ignored (an import with ?primary_key=id
 * created a table without a primary key).
 */
export function refuseUnknownParams(c: AllCtx, specs: ParamSpecs): void {
  for (const name of Object.keys(c.req.query())) {
    if (Object.hasOwn(specs, name) || EVERY_ROUTE.includes(name)) continue
    const known = Object.keys(specs)
    const like = known.find((k) => normalName(k) === normalName(name))
    const shownName = name.length > 40 ? `${name.slice(0, 40)}…` : name
    const takes = known.length ? `this route takes ${known.join(', ')}` : 'this route takes none'
    throw invalid('INVALID_ARGUMENT', `unknown query parameter '${shownName}'${like ? `; did you mean '${like}'?` : ''} (${takes})`, { parameter: shownName })
  }
}

/** Every parameter of a route's set (src/api/params.ts), read and checked; one not in the set is refused. */
export function readParams<P extends ParamSpecs>(c: Ctx & AllCtx, specs: P): ParamValues<P> {
  refuseUnknownParams(c, specs)
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs)) out[name] = readParam(c, name, spec)
  return out as ParamValues<P>
}

/** A string query parameter of bounded length; absent → undefined. */
export function stringParam(c: Ctx, name: string, maxLength = 4096): string | undefined {
  const raw = c.req.query(name)
  if (raw !== undefined && raw.length > maxLength) throw invalid('INVALID_ARGUMENT', `query parameter '${name}' is longer than ${maxLength} characters (limit)`, { parameter: name })
  return raw
}

// ---- settings ----

const LIMIT_FLAGS = { maxBodyBytes: ['max-body-bytes', 'TESSERA_MAX_BODY_BYTES'], maxImportBytes: ['max-import-bytes', 'TESSERA_MAX_IMPORT_BYTES'], maxInsertRows: ['max-insert-rows', 'TESSERA_MAX_INSERT_ROWS'], maxAnswerRows: ['max-answer-rows', 'TESSERA_MAX_ANSWER_ROWS'], maxJoinRows: ['max-join-rows', 'TESSERA_MAX_JOIN_ROWS'], maxQueryMs: ['max-query-ms', 'TESSERA_MAX_QUERY_MS'] } as const

/** Request limits from `tessera serve` flags (--max-body-bytes N, …) or TESSERA_* variables; unset ones stay default. */
export function requestLimitsFrom(flags: Record<string, unknown>, env: Record<string, string | undefined> = process.env): Partial<RequestLimits> {
  const out: Record<string, number> = {}
  for (const [key, [flag, name]] of Object.entries(LIMIT_FLAGS)) {
    const raw = flags[flag] ?? env[name]
    if (raw === undefined || raw === '') continue
    const n = Number(raw)
    if (!Number.isSafeInteger(n) || n < 1) throw invalid('INVALID_ARGUMENT', `--${flag} (${name}) must be a positive integer, got '${String(raw)}'`)
    out[key] = n
  }
  return out
}
