import type { ExprLike } from '../query/expr.ts'
import { Expr, toNode } from '../query/expr.ts'
import type { ExprNode } from '../query/nodes/index.ts'
import { colNode } from '../query/nodes/index.ts'
import { ResultSet } from '../query/results.ts'
// column-type.ts, not types/index.ts: the rest of types/ converts values for the server (Buffer), and the client
// must stay browser-safe.
import { parseType } from '../types/column-type.ts'
import { base64ToBytes, bytesToBase64 } from './base64.ts'
import type { HttpTransport } from './http.ts'
import { toError } from './http.ts'
import type { QueryAnswer, ResultColumn, UpdateStatus } from '../api/index.ts'
import { errorOf, invalid, TesseraError } from '../errors.ts'

// The Query builder over HTTP: the same methods as the in-process Query, building the JSON query body the server
// takes. Values come back as JSON and are revived by column type (timestamps → Date, binary → Uint8Array).

export interface RemoteJoinable {
  readonly path: string
}

interface Body {
  table: string
  select?: { name: string; expr: ExprNode }[]
  where?: ExprNode
  orderBy?: { expr: ExprNode; desc: boolean }[]
  groupBy?: ExprNode[]
  limit?: number
  offset?: number
  distinct?: boolean
  sample?: { n?: number; fraction?: number; seed?: number }
  joins?: { table: string; on?: ExprNode; how: 'inner' | 'left' | 'right' | 'full' | 'cross' }[]
}

export function reviveRows(columns: readonly ResultColumn[], rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const revivers = columns.flatMap((c) => {
    const kind = parseType(c.type).kind
    if (kind === 'timestamp') return [[c.name, (x: unknown) => (typeof x === 'string' ? new Date(x) : x)] as const]
    if (kind === 'binary') return [[c.name, (x: unknown) => (typeof x === 'string' ? base64ToBytes(x) : x)] as const]
    return []
  })
  if (revivers.length === 0) return rows
  for (const r of rows) for (const [name, f] of revivers) r[name] = f(r[name])
  return rows
}

/** What a table handle gives its queries: writes through a query move the handle's version too. */
export interface QueryOwner {
  onStatus(status: UpdateStatus): void
  /** Rows or values ready for JSON (media bytes as data: URLs). */
  wireValues(values: Record<string, unknown>): Record<string, unknown>
}

const JOIN_HOWS = ['inner', 'left', 'right', 'full', 'cross'] as const
type JoinHow = (typeof JOIN_HOWS)[number]

/**
 * The Query builder over HTTP. It builds the JSON form of the library's Query (src/api/json-query.ts reads it into
 * the very same Query on the server) and checks arguments and names outputs as the library's builder does; the
 * differences left are listed in README's "HTTP client" section.
 */
export class RemoteQuery<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly #http: HttpTransport
  readonly #body: Body
  readonly #owner: QueryOwner | undefined

  constructor(http: HttpTransport, body: Body, owner?: QueryOwner) {
    this.#http = http
    this.#body = body
    this.#owner = owner
  }

  #with<R extends Record<string, unknown> = T>(patch: Partial<Body>): RemoteQuery<R> {
    return new RemoteQuery<R>(this.#http, { ...this.#body, ...patch }, this.#owner)
  }

  where(cond: ExprLike): RemoteQuery<T> {
    const node = toNode(cond)
    return this.#with({ where: this.#body.where ? { fn: 'and', args: [this.#body.where, node] } : node })
  }

  /** select(expr, ...), select('col', ...) or select({ name: expr, ... }); outputs are named as the library names them. */
  select<R extends Record<string, unknown> = Record<string, unknown>>(...args: (ExprLike | Record<string, ExprLike>)[]): RemoteQuery<R> {
    const taken = new Set<string>()
    const items: { name: string; expr: ExprNode }[] = []
    const add = (expr: ExprNode) => items.push({ name: defaultName(expr, taken), expr })
    for (const a of args) {
      if (typeof a === 'string') add(colNode(a))
      else if (a instanceof Expr) add(a.node)
      else if (a && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Date) && !('col' in a || 'lit' in a || 'fn' in a)) {
        for (const [name, e] of Object.entries(a)) {
          if (taken.has(name)) throw invalid('INVALID_ARGUMENT', `select(): output name '${name}' is used twice`)
          taken.add(name)
          items.push({ name, expr: typeof e === 'string' ? colNode(e) : toNode(e as ExprLike) })
        }
      } else add(toNode(a as ExprLike))
    }
    return this.#with<R>({ select: items })
  }

  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): RemoteQuery<T> {
    const node = typeof expr === 'string' ? colNode(expr) : toNode(expr)
    return this.#with({ orderBy: [...(this.#body.orderBy ?? []), { expr: node, desc: direction === 'desc' }] })
  }

  groupBy(...exprs: ExprLike[]): RemoteQuery<T> {
    return this.#with({ groupBy: exprs.map((e) => (typeof e === 'string' ? colNode(e) : toNode(e))) })
  }

  limit(n: number): RemoteQuery<T> {
    if (!Number.isInteger(n) || n < 0) throw invalid('INVALID_ARGUMENT', `limit must be a non-negative integer, got ${n}`)
    return this.#with({ limit: n })
  }

  offset(n: number): RemoteQuery<T> {
    if (!Number.isInteger(n) || n < 0) throw invalid('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${n}`)
    return this.#with({ offset: n })
  }

  distinct(): RemoteQuery<T> { return this.#with({ distinct: true }) }

  /** A deterministic random sample: n rows, or each row with probability `fraction`, for a given seed. */
  sample(options: { n?: number; fraction?: number; seed?: number }): RemoteQuery<T> {
    const { n, fraction, seed = 0 } = options
    if ((n === undefined) === (fraction === undefined)) throw invalid('INVALID_ARGUMENT', 'sample() needs exactly one of n or fraction')
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw invalid('INVALID_ARGUMENT', `sample n must be a non-negative integer, got ${n}`)
    if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw invalid('INVALID_ARGUMENT', `sample fraction must be in [0, 1], got ${fraction}`)
    return this.#with({ sample: { ...(n !== undefined ? { n } : {}), ...(fraction !== undefined ? { fraction } : {}), seed } })
  }

  /** As the library's join: how 'inner' (default), 'left', 'right', 'full', or 'cross' (no on). */
  join(other: RemoteJoinable, options: { on?: ExprLike; how?: JoinHow }): RemoteQuery<T> {
    const how = options?.how ?? 'inner'
    if (!JOIN_HOWS.includes(how)) throw invalid('INVALID_ARGUMENT', `join how must be one of ${JOIN_HOWS.map((h) => `'${h}'`).join(', ')}, got ${JSON.stringify(how)}`, { option: 'how' })
    if (how === 'cross' && options.on !== undefined) throw invalid('INVALID_ARGUMENT', 'a cross join pairs every row with every row and takes no on; use an inner join with on, or filter with where()', { option: 'on' })
    if (how !== 'cross' && options?.on === undefined) throw invalid('INVALID_ARGUMENT', `a${how === 'inner' ? 'n' : ''} ${how} join needs on (a boolean expression over both tables); how: 'cross' joins every pair`, { option: 'on' })
    return this.#with({ joins: [...(this.#body.joins ?? []), { table: other.path, ...(options.on !== undefined ? { on: toNode(options.on) } : {}), how }] })
  }

  /** POST /query; errors lose the JSON path the server puts in front (this query was built, not written as JSON). */
  async #post<R>(extra: Record<string, unknown> = {}): Promise<R> {
    try {
      return await this.#http.request<R>('POST', '/api/v1/query', { ...wireNode(this.#body), ...extra })
    } catch (e) {
      throw builtQueryError(e)
    }
  }

  async collect(): Promise<ResultSet<T>> {
    const r = await this.#post<QueryAnswer>()
    return new ResultSet<T>(r.columns, reviveRows(r.columns, r.rows) as T[])
  }

  /** The first n rows in insertion order (or the query's order), as the library's head(). */
  async head(n = 10): Promise<ResultSet<T>> {
    const r = await this.#post<QueryAnswer>({ head: n })
    return new ResultSet<T>(r.columns, reviveRows(r.columns, r.rows) as T[])
  }

  /** The last n rows in insertion order (or the query's order), oldest first, as the library's tail(). */
  async tail(n = 10): Promise<ResultSet<T>> {
    const r = await this.#post<QueryAnswer>({ tail: n })
    return new ResultSet<T>(r.columns, reviveRows(r.columns, r.rows) as T[])
  }

  async first(): Promise<T | undefined> { return (await this.limit(1).collect()).rows[0] }

  async count(): Promise<number> {
    return (await this.#post<{ count: number }>({ count: true })).count
  }

  /** Streams rows as NDJSON from the server, pinned at the version current when the stream starts. */
  async *stream(options: { batchSize?: number } = {}): AsyncGenerator<T> {
    const batchSize = options.batchSize ?? 1000
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalid('INVALID_ARGUMENT', `stream batchSize must be a positive integer, got ${batchSize}`)
    const res = await this.#http.raw('POST', `/api/v1/query?batchSize=${batchSize}`, wireNode(this.#body), { accept: 'application/x-ndjson' })
    if (!res.ok) throw builtQueryError(toError(res.status, await res.json().catch(() => undefined)))
    const decoder = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (!line.trim()) continue
        const row = JSON.parse(line)
        // The server's last line when the query failed after rows were sent (see src/server/routes/query.ts).
        if (row && typeof row === 'object' && '$error' in row) throw builtQueryError(toError(500, { error: row.$error }))
        yield row as T
      }
    }
  }

  async update(values: Record<string, unknown>): Promise<UpdateStatus> {
    const path = `/api/v1/tables/${this.#body.table}/-/rows`
    if (this.#body.joins?.length) throw invalid('INVALID_ARGUMENT', 'update() works on a filtered table, not on joins or read-only versions')
    const wire = this.#owner ? this.#owner.wireValues(values) : values
    const s = await this.#http.request<UpdateStatus>('PATCH', path, { values: encodeValues(wire), ...(this.#body.where ? { where: wireNode(this.#body.where) } : {}) })
    this.#owner?.onStatus(s)
    return s
  }

  async delete(): Promise<UpdateStatus> {
    if (this.#body.joins?.length) throw invalid('INVALID_ARGUMENT', 'delete() works on a filtered table, not on joins or read-only versions')
    const s = await this.#http.request<UpdateStatus>('POST', `/api/v1/tables/${this.#body.table}/-/delete`, this.#body.where ? { where: wireNode(this.#body.where) } : { all: true })
    this.#owner?.onStatus(s)
    return s
  }

  toJSON(): Body {
    return wireNode(this.#body)
  }
}

/** A query error without the JSON path the server puts in front (details.path keeps it). */
function builtQueryError(e: unknown): unknown {
  if (!(e instanceof TesseraError)) return e
  const path = e.details?.path
  if (typeof path !== 'string' || !e.message.startsWith(`${path}: `)) return e
  return errorOf(e.code, e.message.slice(path.length + 2), { ...e.details })
}

/** The library's output naming (src/query/planner.ts defaultName): the column (with _errortype), or the function. */
function defaultName(node: ExprNode, taken: Set<string>): string {
  const base = 'col' in node ? (node.prop ? `${node.col}_${node.prop}` : node.col) : 'fn' in node ? node.fn : 'col'
  let name = base
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`
  taken.add(name)
  return name
}

/** Bytes as they travel over HTTP where a media reference is expected: a base64 data: URL. */
export function bytesToDataUrl(value: unknown): unknown {
  const bytes = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : undefined
  return bytes ? `data:application/octet-stream;base64,${bytesToBase64(bytes)}` : value
}

/**
 * An expression tree ready for JSON: a similarity query by image bytes becomes a data: URL (plain JSON would turn the
 * bytes into a bare base64 string, which the server would read as a file path).
 */
export function wireNode<N>(node: N): N {
  if (Array.isArray(node)) return node.map(wireNode) as N
  if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return node
  const n = node as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(n)) out[k] = k === 'lit' ? v : wireNode(v)
  if (n.fn === 'similarity' && n.opts && typeof n.opts === 'object') {
    const q = (n.opts as Record<string, unknown>).query
    const image = q instanceof Uint8Array || q instanceof ArrayBuffer ? q : q && typeof q === 'object' && 'image' in q ? (q as { image: unknown }).image : undefined
    if (image !== undefined) out.opts = { ...(n.opts as object), query: { image: bytesToDataUrl(image) } }
  }
  return out as N
}

export function encodeValues(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v instanceof Expr ? v.node : v]))
}
