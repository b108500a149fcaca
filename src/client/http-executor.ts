import type { QueryAnswer, ResultColumn, TableInfo, UpdateStatus } from '../api/index.ts'
import { errorOf, TesseraError } from '../errors.ts'
import { Expr } from '../query/expr.ts'
import type { KeysetPage, Query, QueryExecutor } from '../query/query.ts'
import { specToJson } from '../query/query.ts'
import { ResultSet } from '../query/results.ts'
import type { QuerySpec, SourceRef } from '../query/spec.ts'
// column-type.ts, not types/index.ts: the rest of types/ converts values for the server (Buffer), and the client
// must stay browser-safe.
import { parseType } from '../types/column-type.ts'
import { base64ToBytes, bytesToBase64 } from './base64.ts'
import type { HttpTransport } from './http.ts'
import { StreamPins } from './stream-pins.ts'
import { tableUrl } from './urls.ts'

// The executor of the one query builder (src/query/query.ts) over HTTP: POST /api/v1/query with the spec's JSON form
// (src/api/json-query.ts reads it into the very same Query on the server), writes through the table routes. Values
// come back as JSON and are revived by column type (timestamps → Date, binary → Uint8Array). stream() is the
// builder's: pages of POST /query, each table pinned at its version when the stream starts and checked after each
// page by its commit stamp (stream-pins.ts), so a revert or a drop fails the stream as it does in process. A query
// over one table in insertion order pages by keyset, as in process: each page's request carries the `keyset` the
// previous answer gave (the row it ended at), so the server reads the rows after it instead of skipping an offset.

/** A table as the client's queries know it: its path, and the version it is read at (undefined = current). */
export type RemoteSource = SourceRef

/** The client's queries: the library's Query class, with tables known by path. */
export type RemoteQuery<T extends Record<string, unknown> = Record<string, unknown>> = Query<T, RemoteSource>

/** What a table handle gives its queries: writes through a query move the handle's version too. */
export interface QueryOwner {
  onStatus(status: UpdateStatus): void
  /** Rows or values ready for JSON (media bytes as data: URLs). */
  wireValues(values: Record<string, unknown>): Record<string, unknown>
}

export class HttpExecutor implements QueryExecutor<RemoteSource> {
  readonly #http: HttpTransport
  readonly #owner: QueryOwner | undefined
  readonly #pins: StreamPins
  readonly update?: (spec: QuerySpec<RemoteSource>, values: Record<string, unknown>) => Promise<UpdateStatus>
  readonly delete?: (spec: QuerySpec<RemoteSource>) => Promise<UpdateStatus>

  /** writable: false for a past version or a snapshot, whose queries refuse update()/delete() as the library's do. */
  constructor(http: HttpTransport, options: { owner?: QueryOwner; writable?: boolean } = {}) {
    this.#http = http
    this.#owner = options.owner
    this.#pins = new StreamPins(http)
    if (options.writable !== false) {
      this.update = (spec, values) => this.#update(spec, values)
      this.delete = (spec) => this.#delete(spec)
    }
  }

  /** POST /query; errors lose the JSON path the server puts in front (this query was built, not written as JSON). */
  async #post<R>(spec: QuerySpec<RemoteSource>, extra: Record<string, unknown> = {}): Promise<R> {
    try {
      return await this.#http.request<R>('POST', '/api/v1/query', { ...wireNode(specToJson(spec)), ...extra })
    } catch (e) {
      throw builtQueryError(e)
    }
  }

  async collect(spec: QuerySpec<RemoteSource>): Promise<ResultSet> {
    // A stream's page of a version reverted or dropped since fails here, before the stream's check: say which.
    const r = await this.#post<QueryAnswer>(spec).catch(async (e: unknown) => Promise.reject(await this.#pins.explain(spec, e)))
    return new ResultSet(r.columns, reviveRows(r.columns, r.rows))
  }

  /** QueryExecutor.keysetPage: POST /query with `keyset` ({} first, then {"after": …} as the last answer gave it). */
  async keysetPage(spec: QuerySpec<RemoteSource>, after: string | undefined): Promise<KeysetPage> {
    const keyset = after === undefined ? {} : { after }
    const r = await this.#post<QueryAnswer>(spec, { keyset }).catch(async (e: unknown) => Promise.reject(await this.#pins.explain(spec, e)))
    // No keyset in the answer: the page was the last (the builder stops there).
    return { result: new ResultSet(r.columns, reviveRows(r.columns, r.rows)), ...(r.keyset ? { lastRowid: r.keyset.after } : {}) }
  }

  async count(spec: QuerySpec<RemoteSource>): Promise<number> {
    return (await this.#post<{ count: number }>(spec, { count: true })).count
  }

  async currentVersion(source: RemoteSource): Promise<number> {
    return (await this.#http.request<TableInfo>('GET', tableUrl(source.path))).version
  }

  watchVersion(source: RemoteSource, version: number): Promise<() => Promise<void>> {
    return this.#pins.watch(source, version)
  }

  async #update(spec: QuerySpec<RemoteSource>, values: Record<string, unknown>): Promise<UpdateStatus> {
    const { table, where } = specToJson(spec)
    const wire = this.#owner ? this.#owner.wireValues(values) : values
    const s = await this.#http.request<UpdateStatus>('PATCH', `${tableUrl(table, { allowVersion: true })}/-/rows`, { values: encodeValues(wire), ...(where ? { where: wireNode(where) } : {}) })
    this.#owner?.onStatus(s)
    return s
  }

  async #delete(spec: QuerySpec<RemoteSource>): Promise<UpdateStatus> {
    const { table, where } = specToJson(spec)
    const s = await this.#http.request<UpdateStatus>('POST', `${tableUrl(table, { allowVersion: true })}/-/delete`, where ? { where: wireNode(where) } : { all: true })
    this.#owner?.onStatus(s)
    return s
  }
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

/** A query error without the JSON path the server puts in front (details.path keeps it). */
function builtQueryError(e: unknown): unknown {
  if (!(e instanceof TesseraError)) return e
  const path = e.details?.path
  if (typeof path !== 'string' || !e.message.startsWith(`${path}: `)) return e
  return errorOf(e.code, e.message.slice(path.length + 2), { ...e.details })
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
