import { toJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import { invalid } from '../errors.ts'
import { sameJson } from './canonical.ts'
import type { RetrievalFunction } from '../ai/index.ts'
import type { Query } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'

// Declared service routes: in a setup file, `db.route.insert('/ingest', docs)`, `db.route.query('/search', params,
// fn)` and `db.route.call('/ask', params, fn)` declare application endpoints with valibot-typed parameters and
// results. They are code, like UDFs: `tessera serve --setup setup.ts` collects them (running the setup in plan mode)
// and serves them under /api/v1/app beside the generic API, with the same tokens, in /openapi.json.
// `tessera apply --plan --url ...` compares them with what that server serves and lists the differences.

/** What a route's function gets besides its parameters: the database and table lookups checked against the caller. */
export interface RouteContext {
  /** The server's database (the library's Tessera). */
  readonly db: unknown
  /** A table by its setup path (the environment prefix applied), checked for the caller's access. */
  table(path: string, access?: 'read' | 'write'): Promise<any>
}

type Params = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined> | v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue> | undefined>

export interface RouteOptions {
  readonly description?: string
  /** Schema of each result row (query) or of the result (call); results are checked against it. */
  readonly result?: v.GenericSchema
}

interface RouteBase {
  readonly path: string
  readonly description?: string
  /** Setup path → table path (the environment prefix the setup ran with). */
  readonly qualify: (path: string) => string
}

export type DeclaredRoute =
  | RouteBase & { readonly kind: 'insert'; readonly table: string; readonly params?: Params; readonly returns?: readonly string[] }
  | RouteBase & { readonly kind: 'query'; readonly params: Params; readonly fn: (params: any, ctx: RouteContext) => Query | Promise<Query>; readonly result?: v.GenericSchema }
  | RouteBase & { readonly kind: 'call'; readonly params: Params; readonly fn: (params: any, ctx: RouteContext) => unknown; readonly result?: v.GenericSchema }

/** A route as compared between a setup and a server: kind, path and the JSON schemas of parameters and result. */
export interface RouteSignature {
  readonly kind: DeclaredRoute['kind']
  readonly path: string
  readonly table?: string
  readonly params?: unknown
  readonly result?: unknown
}

/** The table route.insert is given: the setup's table (or a library table), whose primary key it checks when known. */
export interface RouteTable {
  readonly path: string
  /** The primary key's columns; undefined when not known (a table a plan has not created). */
  primaryKey?(): readonly string[] | undefined
  columns?(): readonly { readonly name: string; readonly primaryKey: boolean }[]
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

const PATH = /^(\/[a-z0-9][a-z0-9_-]{0,63}){1,4}$/

export function jsonSchema(s: v.GenericSchema | undefined): unknown {
  if (!s) return undefined
  const { $schema: _s, ...rest } = toJsonSchema(s, { errorMode: 'ignore' }) as Record<string, unknown>
  return rest
}

export class RouteSet {
  readonly routes: DeclaredRoute[] = []
  readonly #qualify: (path: string) => string

  constructor(qualify: (tablePath: string) => string = (p) => p) {
    this.#qualify = qualify
  }

  #add(declared: DistributiveOmit<DeclaredRoute, 'qualify'>): void {
    const route = { ...declared, qualify: this.#qualify } as DeclaredRoute
    if (!PATH.test(route.path)) throw invalid('INVALID_ARGUMENT', `route path '${route.path}' must look like '/search' or '/docs/ingest' (lowercase letters, digits, _ and -)`)
    if (this.routes.some((r) => r.path === route.path)) throw invalid('INVALID_ARGUMENT', `route '${route.path}' is declared twice`)
    this.routes.push(route)
  }

  /**
   * POST {path} with a row (or {rows: [...]}) inserts into the table. `params` (a valibot object schema) checks each
   * row; `returns` lists columns (computed ones, say) sent back for the inserted rows, which needs a primary key.
   */
  insert(path: string, table: string | RouteTable, options: { params?: Params; returns?: readonly string[]; description?: string } = {}): void {
    const tablePath = typeof table === 'string' ? this.#qualify(table) : table.path
    // Refused here, where the setup names the table, rather than at the first request: the server would insert the
    // rows and only then find it cannot read them back. A table given by path is checked by the server instead.
    const pk = typeof table === 'string' ? undefined : table.primaryKey?.() ?? table.columns?.().filter((c) => c.primaryKey).map((c) => c.name)
    if (options.returns?.length && pk?.length === 0) {
      throw invalid('INVALID_ARGUMENT', `route '${path}': returns needs a primary key on ${tablePath} (the inserted rows are read back by it), and it has none: give the table a primaryKey or leave returns out`, { route: path })
    }
    this.#add({ kind: 'insert', path, table: tablePath, ...options })
  }

  /**
   * POST {path} with the parameters runs the query `fn` builds from them and answers its rows. Or serves a retrieval
   * function: `route.query('/search', searchDocs)` (its parameters and description).
   */
  query<P extends Params>(path: string, params: P, fn: (params: v.InferOutput<P>, ctx: RouteContext) => Query | Promise<Query>, options?: RouteOptions): void
  query(path: string, retrieval: RetrievalFunction, options?: RouteOptions): void
  query(path: string, params: Params | RetrievalFunction, fn?: unknown, options: RouteOptions = {}): void {
    if (typeof params === 'function') {
      const r = params
      const opts = (fn ?? {}) as RouteOptions
      this.#add({ kind: 'query', path, params: paramsSchema(r.params), fn: (p: Record<string, unknown>) => r.build(p), description: opts.description ?? r.description, ...(opts.result ? { result: opts.result } : {}) })
      return
    }
    this.#add({ kind: 'query', path, params, fn: fn as (p: unknown, ctx: RouteContext) => Query | Promise<Query>, ...options })
  }

  /** POST {path} with the parameters calls `fn` and answers its result (JSON). */
  call<P extends Params>(path: string, params: P, fn: (params: v.InferOutput<P>, ctx: RouteContext) => unknown, options: RouteOptions = {}): void {
    this.#add({ kind: 'call', path, params, fn, ...options })
  }

  /** The table path a setup path stands for (environment prefix applied). */
  qualify(path: string): string {
    return this.#qualify(path)
  }
}

/** A retrieval function's parameters as the valibot object a route validates requests with. */
function paramsSchema(params: RetrievalFunction['params']): Params {
  const of = (t: ColumnType): v.GenericSchema => {
    const base: v.GenericSchema = t.kind === 'string' ? v.string() : t.kind === 'int' ? v.pipe(v.number(), v.integer()) : t.kind === 'float' ? v.number() : t.kind === 'bool' ? v.boolean() : v.unknown()
    return t.nullable ? v.nullish(base) : base
  }
  // Strict, as the function's own JSON schema says (additionalProperties: false): an unknown key is refused naming it,
  // not stripped (a misspelled optional parameter would run the query with its default).
  return v.strictObject(Object.fromEntries(params.map((p) => [p.name, p.description ? v.pipe(of(p.type), v.description(p.description)) : of(p.type)])))
}

export function routeSignature(r: DeclaredRoute): RouteSignature {
  return {
    kind: r.kind, path: r.path,
    ...(r.kind === 'insert' ? { table: r.table } : {}),
    ...(r.params ? { params: jsonSchema(r.params) } : {}),
    ...(r.kind !== 'insert' && r.result ? { result: jsonSchema(r.result) } : {}),
  }
}

const describeRoute = (s: RouteSignature): string => {
  const props = Object.entries(((s.params as { properties?: Record<string, { type?: string }> })?.properties) ?? {})
  const required = new Set(((s.params as { required?: string[] })?.required) ?? [])
  const params = props.map(([n, p]) => `${n}${required.has(n) ? '' : '?'}: ${p.type ?? 'any'}`).join(', ')
  return `POST /api/v1/app${s.path} (${s.kind}${s.table ? ` into ${s.table}` : ''}${params ? `; ${params}` : ''})`
}

/** The differences between the routes a server serves and the ones a setup declares, as plan lines. */
export function diffRoutes(served: readonly RouteSignature[], declared: readonly RouteSignature[]): string[] {
  const changes: string[] = []
  const byPath = new Map(served.map((s) => [s.path, s]))
  for (const d of declared) {
    const s = byPath.get(d.path)
    if (!s) changes.push(`add route ${describeRoute(d)}`)
    // By content: the served signature crossed JSON and another build, so its keys need not come in the same order.
    else if (!sameJson(s, d)) changes.push(`change route ${describeRoute(s)} → ${describeRoute(d)}`)
    byPath.delete(d.path)
  }
  for (const s of byPath.values()) changes.push(`remove route ${describeRoute(s)}`)
  return changes
}
