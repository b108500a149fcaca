import type { ExprLike } from '../query/expr.ts'
import { Expr, toNode } from '../query/expr.ts'
import type { ExprNode } from '../query/nodes/index.ts'
import { colNode } from '../query/nodes/index.ts'
import { ResultSet } from '../query/results.ts'
import type { ResultColumn } from '../query/results.ts'
// column-type.ts, not types/index.ts: the rest of types/ converts values for the server (Buffer), and the client
// must stay browser-safe.
import { parseType } from '../types/column-type.ts'
import { base64ToBytes, bytesToBase64 } from './base64.ts'
import type { HttpTransport } from './http.ts'
import { toError } from './http.ts'

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

export class RemoteQuery<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly #http: HttpTransport
  readonly #body: Body

  constructor(http: HttpTransport, body: Body) {
    this.#http = http
    this.#body = body
  }

  #with(patch: Partial<Body>): RemoteQuery<T> {
    return new RemoteQuery<T>(this.#http, { ...this.#body, ...patch })
  }

  where(cond: ExprLike): RemoteQuery<T> {
    const node = toNode(cond)
    return this.#with({ where: this.#body.where ? { fn: 'and', args: [this.#body.where, node] } : node })
  }

  select<R extends Record<string, unknown> = Record<string, unknown>>(...args: (ExprLike | Record<string, ExprLike>)[]): RemoteQuery<R> {
    const items: { name: string; expr: ExprNode }[] = []
    for (const a of args) {
      if (typeof a === 'string') items.push({ name: a, expr: colNode(a) })
      else if (a instanceof Expr) items.push({ name: nameOf(a.node, items), expr: a.node })
      else if (a && typeof a === 'object' && !Array.isArray(a)) {
        for (const [name, e] of Object.entries(a)) items.push({ name, expr: typeof e === 'string' ? colNode(e) : toNode(e as ExprLike) })
      }
    }
    return new RemoteQuery<R>(this.#http, { ...this.#body, select: items })
  }

  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): RemoteQuery<T> {
    const node = typeof expr === 'string' ? colNode(expr) : toNode(expr)
    return this.#with({ orderBy: [...(this.#body.orderBy ?? []), { expr: node, desc: direction === 'desc' }] })
  }

  groupBy(...exprs: ExprLike[]): RemoteQuery<T> {
    return this.#with({ groupBy: exprs.map((e) => (typeof e === 'string' ? colNode(e) : toNode(e))) })
  }

  limit(n: number): RemoteQuery<T> { return this.#with({ limit: n }) }
  offset(n: number): RemoteQuery<T> { return this.#with({ offset: n }) }
  distinct(): RemoteQuery<T> { return this.#with({ distinct: true }) }
  sample(options: { n?: number; fraction?: number; seed?: number }): RemoteQuery<T> { return this.#with({ sample: options }) }

  /** As the library's join: how 'inner' (default), 'left', 'right', 'full', or 'cross' (no on); the server checks them. */
  join(other: RemoteJoinable, options: { on?: ExprLike; how?: 'inner' | 'left' | 'right' | 'full' | 'cross' }): RemoteQuery<T> {
    return this.#with({ joins: [...(this.#body.joins ?? []), { table: other.path, ...(options.on !== undefined ? { on: toNode(options.on) } : {}), how: options.how ?? 'inner' }] })
  }

  async collect(): Promise<ResultSet<T>> {
    const r = await this.#http.request<{ columns: ResultColumn[]; rows: Record<string, unknown>[] }>('POST', '/api/v1/query', wireNode(this.#body))
    return new ResultSet<T>(r.columns, reviveRows(r.columns, r.rows) as T[])
  }

  async head(n = 10): Promise<ResultSet<T>> { return this.#with({ limit: n }).collect() }

  async tail(n = 10): Promise<ResultSet<T>> {
    const total = await this.count()
    return this.#with({ offset: Math.max(0, total - n), limit: n }).collect()
  }

  async first(): Promise<T | undefined> { return (await this.#with({ limit: 1 }).collect()).rows[0] }

  async count(): Promise<number> {
    return (await this.#http.request<{ count: number }>('POST', '/api/v1/query', wireNode({ ...this.#body, count: true }))).count
  }

  /** Streams rows as NDJSON from the server, pinned at the version current when the stream starts. */
  async *stream(options: { batchSize?: number } = {}): AsyncGenerator<T> {
    const res = await this.#http.raw('POST', `/api/v1/query?batchSize=${options.batchSize ?? 1000}`, wireNode(this.#body), { accept: 'application/x-ndjson' })
    if (!res.ok) throw toError(res.status, await res.json().catch(() => undefined))
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
        if (row && typeof row === 'object' && '$error' in row) throw toError(500, { error: row.$error })
        yield row as T
      }
    }
  }

  async update(values: Record<string, unknown>): Promise<unknown> {
    const path = `/api/v1/tables/${this.#body.table}/-/rows`
    return this.#http.request('PATCH', path, { values: encodeValues(values), ...(this.#body.where ? { where: wireNode(this.#body.where) } : {}) })
  }

  async delete(): Promise<unknown> {
    return this.#http.request('POST', `/api/v1/tables/${this.#body.table}/-/delete`, this.#body.where ? { where: wireNode(this.#body.where) } : { all: true })
  }

  toJSON(): Body {
    return wireNode(this.#body)
  }
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

function nameOf(node: ExprNode, taken: readonly { name: string }[]): string {
  const base = 'col' in node ? node.col : 'fn' in node ? node.fn : 'col'
  let name = base
  for (let i = 1; taken.some((t) => t.name === name); i++) name = `${base}_${i}`
  return name
}
