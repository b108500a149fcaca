import type {
  AddColumnRequest, AddIndexRequest, DropParams, DropPartParams, Frozen, ListDirsParams, ListTablesParams, BatchUpdateRequest, CheckAnswer, ColumnInfo, CompactReportAnswer, CompactRequest, CreateDirRequest, CreatedAnswer,
  CreateSnapshotRequest, CreateTableRequest, CreateViewRequest, DeleteRequest, DirListAnswer, GcReportAnswer, GcRequest, HealthAnswer, HistoryAnswer,
  IfExists, IfNotExists, IndexInfo, InsertRequest, MoveRequest, OnError, QueryAnswer, RecomputeRequest, RenameColumnRequest, AddScalarIndexRequest, RetentionAnswer,
  RetentionRequest, RevertAnswer, SchemaChangeAnswer, SearchRequest, TableApi, TableInfo, TableListAnswer, TesseraApi, UpdateRequest, UpdateStatus,
  VersionInfoApi,
} from '../api/index.ts'
import { invalid, notFound, refuseUnknownOptions } from '../errors.ts'
import type { ExprLike } from '../query/expr.ts'
import { Expr, toNode } from '../query/expr.ts'
import { colNode } from '../query/nodes/index.ts'
import { ResultSet } from '../query/results.ts'
import type { ClientOptions } from './http.ts'
import { HttpTransport, queryString } from './http.ts'
import { RemoteJobs } from './remote-jobs.ts'
import { dirUrl, nameSegment, tableUrl } from './urls.ts'
import { bytesToDataUrl, encodeValues, HttpExecutor, reviveRows } from './http-executor.ts'
import type { QueryOwner, RemoteQuery, RemoteSource } from './http-executor.ts'
import { Query } from '../query/query.ts'
import type { Joinable } from '../query/query.ts'

// The HTTP client with the in-process library's interface: `await Tessera.connect(url, { token })` gives an object
// whose dirs, tables, rows, queries and versions behave like `await Tessera.open()`'s, over the API.


type Row = Record<string, unknown>

/** Options of createTable: the request body without the path and schema. */
export type CreateTableOptions = Omit<CreateTableRequest, 'path' | 'schema'>
/** Options of addEmbeddingIndex, as the library's (the embedder travels as data: embedders.lexical() and friends). */
export type AddEmbeddingIndexOptions = Omit<AddIndexRequest, 'column'>
/** Options of hybridSearch, as the library's: where as an expression, withErrors for the per-cell errors. */
export type HybridSearchOptions = Pick<SearchRequest, 'column' | 'k' | 'idx' | 'candidates' | 'language' | 'rrfK'> & { readonly where?: ExprLike; readonly withErrors?: boolean }
/** A retention policy (keepVersions, keepFor), as db.setRetention takes it. */
export type RetentionPolicy = NonNullable<RetentionRequest['policy']>

export class RemoteTable implements Joinable<RemoteSource>, TableApi {
  readonly #http: HttpTransport
  #info: TableInfo
  #proxy: Record<string, Expr> | undefined
  #queries: HttpExecutor | undefined
  readonly #owner: QueryOwner = {
    onStatus: (s) => { this.#info = { ...this.#info, version: s.version } },
    wireValues: (values) => this.#wireRows([values])[0]!,
  }

  constructor(http: HttpTransport, info: TableInfo) {
    this.#http = http
    this.#info = info
  }

  /**
   * After db.move(): a handle follows its table to the new path, as the library's handles do (they name the table
   * by id). Called by RemoteTessera.move for every live handle under `from`.
   */
  followMove(from: string, to: string): void {
    const [path, version] = this.#info.path.split(':') as [string, string | undefined]
    if (path !== from && !path.startsWith(`${from}/`)) return
    this.#info = { ...this.#info, path: `${to}${path.slice(from.length)}${version !== undefined ? `:${version}` : ''}` }
  }

  get path(): string { return this.#info.path }
  get name(): string { return this.path.replace(/:\d+$/, '').split('/').at(-1)! }
  get version(): number { return this.#info.version }
  get isReadOnly(): boolean { return this.#info.readOnly }
  get primaryKey(): string[] { return this.#info.primaryKey }
  columns(): ColumnInfo[] { return this.#info.columns }
  schema(): Record<string, string> { return Object.fromEntries(this.#info.columns.map((c) => [c.name, c.type])) }

  get c(): Record<string, Expr> {
    this.#proxy ??= new Proxy({} as Record<string, Expr>, { get: (_t, name) => (typeof name === 'string' ? this.col(name) : undefined) })
    return this.#proxy
  }

  col(name: string): Expr {
    if (!this.#info.columns.some((c) => c.name === name)) {
      throw notFound('COLUMN_NOT_FOUND', `unknown column '${name}' in '${this.path}'; columns are: ${this.#info.columns.map((c) => c.name).join(', ')}`, { column: name })
    }
    return new Expr(colNode(name, this.path.replace(/:\d+$/, '')))
  }

  #url(action: string): string {
    return `${tableUrl(this.#info.path, { allowVersion: true })}/-/${action}`
  }

  /** Re-reads the table's schema and version from the server. */
  async refresh(): Promise<this> {
    this.#info = await this.#http.request<TableInfo>('GET', tableUrl(this.#info.path, { allowVersion: true }))
    return this
  }

  async #status(p: Promise<UpdateStatus>): Promise<UpdateStatus> {
    const s = await p
    this.#owner.onStatus(s)
    return s
  }

  /** The table as its queries name it: the path, and the version a 'path:N' handle reads (else the current one). */
  querySource(): RemoteSource {
    const m = /^(.*):(\d+)$/.exec(this.#info.path)
    return m ? { path: m[1]!, version: Number(m[2]) } : { path: this.#info.path, version: undefined }
  }

  /** The library's query builder (src/query/query.ts), run by POST /api/v1/query. */
  query(): RemoteQuery {
    this.#queries ??= new HttpExecutor(this.#http, { owner: this.#owner, writable: !this.isReadOnly })
    return new Query(this.#queries, { from: this.querySource(), joins: [], orderBy: [] })
  }

  select<R extends Row = Row>(...args: (ExprLike | Record<string, ExprLike>)[]): RemoteQuery<R> { return this.query().select<R>(...args) }
  where(cond: ExprLike): RemoteQuery { return this.query().where(cond) }
  orderBy(expr: ExprLike, direction: 'asc' | 'desc' = 'asc'): RemoteQuery { return this.query().orderBy(expr, direction) }
  groupBy(...exprs: ExprLike[]): RemoteQuery { return this.query().groupBy(...exprs) }
  distinct(): RemoteQuery { return this.query().distinct() }
  limit(n: number): RemoteQuery { return this.query().limit(n) }
  sample(options: { n?: number; fraction?: number; seed?: number }): RemoteQuery { return this.query().sample(options) }
  join(other: Joinable<RemoteSource>, options: { on?: ExprLike; how?: 'inner' | 'left' | 'right' | 'full' | 'cross' }): RemoteQuery { return this.query().join(other, options) }
  collect(): Promise<ResultSet> { return this.query().collect() }
  head(n = 10): Promise<ResultSet> { return this.query().head(n) }
  tail(n = 10): Promise<ResultSet> { return this.query().tail(n) }
  count(): Promise<number> { return this.query().count() }
  stream(options: { batchSize?: number } = {}): AsyncGenerator<Row> { return this.query().stream(options) }

  /**
   * Rows ready for JSON: bytes in media columns travel as data: URLs (a bare base64 string would read as a path), and
   * numbers JSON cannot carry are refused here, as the library refuses them, instead of arriving as null.
   */
  #wireRows(rows: readonly Row[]): Row[] {
    rows.forEach((r, i) => {
      if (!r || typeof r !== 'object') return
      for (const [k, x] of Object.entries(r)) {
        if (typeof x !== 'number' || Number.isFinite(x)) continue
        const what = Number.isNaN(x) ? 'NaN is not a storable number (use null for a missing value)' : `${x} cannot be sent as JSON (the HTTP API carries finite numbers only)`
        throw invalid('INVALID_ROW', `row ${i}, column '${k}': ${what}`, { row: i, column: k })
      }
    })
    const media = this.#info.columns.filter((c) => /^(image|audio|video|document)\??$/.test(c.type)).map((c) => c.name)
    if (media.length === 0) return [...rows]
    return rows.map((r) => {
      const out = { ...r }
      for (const m of media) if (m in out) out[m] = bytesToDataUrl(out[m])
      return out
    })
  }

  async insert(rows: readonly Row[] | Row, options: { onError?: OnError } = {}): Promise<UpdateStatus> {
    return this.#status(this.#http.request('POST', this.#url('rows'), { rows: this.#wireRows(Array.isArray(rows) ? rows : [rows]), ...options } satisfies InsertRequest))
  }

  async update(values: Row, options: { where?: ExprLike; cascade?: boolean } = {}): Promise<UpdateStatus> {
    return this.#status(this.#http.request('PATCH', this.#url('rows'), {
      values: encodeValues(this.#wireRows([values])[0]!),
      ...(options.where !== undefined ? { where: toNode(options.where) } : {}),
      ...(options.cascade !== undefined ? { cascade: options.cascade } : {}),
    } satisfies UpdateRequest))
  }

  delete(options: { where?: ExprLike } = {}): Promise<UpdateStatus> {
    return this.#status(this.#http.request('POST', this.#url('delete'), (options.where !== undefined ? { where: toNode(options.where) } : { all: true }) satisfies DeleteRequest))
  }

  async batchUpdate(rows: readonly Row[], options: { ifNotExists?: 'error' | 'ignore' | 'insert'; cascade?: boolean } = {}): Promise<UpdateStatus> {
    return this.#status(this.#http.request('POST', this.#url('batch-update'), { rows: this.#wireRows(rows), ...options } satisfies BatchUpdateRequest))
  }

  /** As in process: batchUpdate's cascade, any other option refused by name. */
  async upsert(rows: readonly Row[], options: { cascade?: boolean } = {}): Promise<UpdateStatus> {
    refuseUnknownOptions('upsert', options, ['cascade'])
    return this.batchUpdate(rows, { ...(options.cascade !== undefined ? { cascade: options.cascade } : {}), ifNotExists: 'insert' })
  }

  async #schema(p: Promise<SchemaChangeAnswer>): Promise<UpdateStatus> {
    const r = await p
    this.#info = r.table
    return r.status
  }

  addColumn(name: string, type: string, options: { ifExists?: IfExists } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('POST', this.#url('columns'), { name, type, ...options } satisfies AddColumnRequest))
  }

  async addColumns(schema: Record<string, string>, options: { ifExists?: IfExists } = {}): Promise<UpdateStatus[]> {
    const out: UpdateStatus[] = []
    for (const [name, type] of Object.entries(schema)) out.push(await this.addColumn(name, type, options))
    return out
  }

  addComputedColumn(name: string, expr: ExprLike, options: { onError?: OnError; ifExists?: IfExists; stored?: boolean } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('POST', this.#url('columns'), { name, expr: toNode(expr), ...options } satisfies AddColumnRequest))
  }

  dropColumn(name: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('DELETE', `${this.#url('columns')}/${nameSegment(name)}${queryString<typeof DropPartParams>(options)}`))
  }

  renameColumn(oldName: string, newName: string): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('POST', `${this.#url('columns')}/${nameSegment(oldName)}/rename`, { to: newName } satisfies RenameColumnRequest))
  }

  addScalarIndex(column: string, options: { ifExists?: 'error' | 'ignore' } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('POST', `${this.#url('columns')}/${nameSegment(column)}/index`, { ...options } satisfies AddScalarIndexRequest))
  }

  dropScalarIndex(column: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('DELETE', `${this.#url('columns')}/${nameSegment(column)}/index${queryString<typeof DropPartParams>(options)}`))
  }

  recomputeColumns(names: string | readonly string[], options: { where?: ExprLike; errorsOnly?: boolean; cascade?: boolean } = {}): Promise<UpdateStatus> {
    return this.#status(this.#http.request('POST', this.#url('recompute'), {
      columns: names, ...(options.where !== undefined ? { where: toNode(options.where) } : {}),
      ...(options.errorsOnly !== undefined ? { errorsOnly: options.errorsOnly } : {}),
      ...(options.cascade !== undefined ? { cascade: options.cascade } : {}),
    } satisfies RecomputeRequest))
  }

  // embedding indexes and search (the embedder travels as data: embedders.lexical() and friends are plain objects)
  listIndexes(): IndexInfo[] { return this.#info.indexes ?? [] }

  addEmbeddingIndex(column: string, options: AddEmbeddingIndexOptions = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('POST', this.#url('indexes'), { column, ...options } satisfies AddIndexRequest))
  }

  dropEmbeddingIndex(name: string, options: { ifNotExists?: IfNotExists } = {}): Promise<UpdateStatus> {
    return this.#schema(this.#http.request('DELETE', `${this.#url('indexes')}/${nameSegment(name)}${queryString<typeof DropPartParams>(options)}`))
  }

  /** Full text and vectors fused by reciprocal rank, as Table.hybridSearch. */
  async hybridSearch(query: string, options: HybridSearchOptions): Promise<ResultSet> {
    const { where, withErrors, ...rest } = options
    const r = await this.#http.request<QueryAnswer>('POST', this.#url('search'), {
      text: query, hybrid: true, ...rest, ...(where !== undefined ? { where: toNode(where) } : {}), ...(withErrors ? { errors: true } : {}),
    } satisfies SearchRequest)
    return new ResultSet(r.columns, reviveRows(r.columns, r.rows))
  }

  async history(): Promise<VersionInfoApi[]> {
    const r = await this.#http.request<HistoryAnswer>('GET', this.#url('history'))
    return r.versions.map((v) => ({ ...v, createdAt: new Date(v.createdAt) }))
  }

  async revert(): Promise<RevertAnswer> {
    const r = await this.#http.request<RevertAnswer>('POST', this.#url('revert'))
    this.#info = { ...this.#info, version: r.version }
    await this.refresh()
    return r
  }
}

export class RemoteTessera implements TesseraApi<RemoteTable> {
  readonly #http: HttpTransport
  #jobs: RemoteJobs | undefined
  /** Live table handles (weakly held), so move() can move them along as the library's handles move. */
  readonly #handles = new Set<WeakRef<RemoteTable>>()
  readonly url: string

  constructor(url: string, options: ClientOptions = {}) {
    this.url = url
    this.#http = new HttpTransport(url, options)
  }

  /** The raw transport, for routes the typed client does not wrap yet. */
  get http(): HttpTransport { return this.#http }

  /** Background jobs (long backfills) on the server: start, list, get, wait, cancel, resume, as db.jobs. */
  get jobs(): RemoteJobs { return (this.#jobs ??= new RemoteJobs(this.#http)) }

  /** Integrity check of the catalog and data (admin token), as db.check(). */
  async check(): Promise<Frozen<CheckAnswer>> {
    return this.#http.request('GET', '/api/v1/admin/check')
  }

  /** Retention, compaction and media GC (admin token), as db.setRetention(), db.compact(), db.gc(). */
  async setRetention(policy: RetentionPolicy | null, path?: string): Promise<Frozen<RetentionAnswer>> {
    return this.#http.request('POST', '/api/v1/admin/retention', { policy, ...(path !== undefined ? { path } : {}) } satisfies RetentionRequest)
  }

  async compact(options: CompactRequest = {}): Promise<Frozen<CompactReportAnswer>> {
    return this.#http.request('POST', '/api/v1/admin/compact', options)
  }

  async gc(options: GcRequest = {}): Promise<Frozen<GcReportAnswer>> {
    return this.#http.request('POST', '/api/v1/admin/gc', options)
  }

  async health(): Promise<HealthAnswer> {
    return this.#http.request('GET', '/health')
  }

  async createDir(path: string, options: Omit<CreateDirRequest, 'path'> = {}): Promise<CreatedAnswer> {
    return this.#http.request('POST', '/api/v1/dirs', { path, ...options } satisfies CreateDirRequest)
  }

  async dropDir(path: string, options: { force?: boolean; ifNotExists?: IfNotExists } = {}): Promise<void> {
    await this.#http.request('DELETE', `${dirUrl(path)}${queryString<typeof DropParams>(options)}`)
  }

  async listDirs(path = '', options: { recursive?: boolean } = {}): Promise<string[]> {
    return (await this.#http.request<DirListAnswer>('GET', `/api/v1/dirs${queryString<typeof ListDirsParams>({ path, recursive: options.recursive })}`)).dirs
  }

  async listTables(path = '', options: { recursive?: boolean } = {}): Promise<string[]> {
    return (await this.#http.request<TableListAnswer>('GET', `/api/v1/tables${queryString<typeof ListTablesParams>({ dir: path, recursive: options.recursive })}`)).tables
  }

  async move(from: string, to: string): Promise<void> {
    await this.#http.request('POST', '/api/v1/move', { from, to } satisfies MoveRequest)
    for (const ref of this.#handles) {
      const t = ref.deref()
      if (t) t.followMove(from, to)
      else this.#handles.delete(ref)
    }
  }

  async createTable(path: string, schema: Record<string, string>, options: CreateTableOptions = {}): Promise<RemoteTable> {
    return this.#handle(await this.#http.request<TableInfo>('POST', '/api/v1/tables', { path, schema, ...options } satisfies CreateTableRequest))
  }

  async getTable(path: string): Promise<RemoteTable> {
    return this.#handle(await this.#http.request<TableInfo>('GET', tableUrl(path, { allowVersion: true })))
  }

  get(path: string): Promise<RemoteTable> { return this.getTable(path) }

  /** A view over a table, or over t.where(...) (the view follows that filter too), as db.createView. */
  async createView(path: string, base: RemoteTable | RemoteQuery | string, options: Omit<CreateViewRequest, 'path' | 'base' | 'where'> & { where?: ExprLike } = {}): Promise<RemoteTable> {
    const { where, ...rest } = options
    return this.#handle(await this.#http.request<TableInfo>('POST', '/api/v1/views', {
      path, base: typeof base === 'string' ? base : base instanceof Query ? base.toJSON() as CreateViewRequest['base'] : base.path,
      ...(where !== undefined ? { where: toNode(where) } : {}),
      ...rest,
    } satisfies CreateViewRequest))
  }

  async createSnapshot(path: string, base: RemoteTable | string, options: Omit<CreateSnapshotRequest, 'path' | 'base'> = {}): Promise<RemoteTable> {
    return this.#handle(await this.#http.request<TableInfo>('POST', '/api/v1/snapshots', { path, base: typeof base === 'string' ? base : base.path, ...options } satisfies CreateSnapshotRequest))
  }

  async dropTable(path: string, options: { force?: boolean; ifNotExists?: IfNotExists } = {}): Promise<void> {
    await this.#http.request('DELETE', `${tableUrl(path)}${queryString<typeof DropParams>(options)}`)
  }

  #handle(info: TableInfo): RemoteTable {
    const t = new RemoteTable(this.#http, info)
    if (this.#handles.size > 1000) for (const ref of this.#handles) if (!ref.deref()) this.#handles.delete(ref)
    this.#handles.add(new WeakRef(t))
    return t
  }

  /** Nothing to release for HTTP; present so code written for the library runs unchanged. */
  async close(): Promise<void> {}
}

/** Connects to a running Tessera server (same interface as Tessera.open's result). */
export function connect(url: string, options: ClientOptions = {}): RemoteTessera {
  return new RemoteTessera(url, options)
}
