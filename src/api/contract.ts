import type { ExprLike, Expr, ResultSet } from '../query/index.ts'
import type { ColumnInfo, IndexInfo, UpdateStatus } from './answers.ts'
import type { CreateTableRequest, IteratorRequest } from './requests.ts'

// The one interface of a Tessera database, whether it is open in this process (Tessera.open: src/catalog) or a server
// reached over HTTP (connect: src/client). Both implement it (test/client/contract.test.ts checks it at compile
// time), setup files are written against it (src/setup), and the shapes it returns are the API's answers
// (answers.ts), read-only so that both the library's frozen values and the client's parsed JSON fit.

/** A value as the contract hands it out: nothing in it is meant to be changed by the caller. */
export type Frozen<T> = T extends (infer E)[] ? readonly Frozen<E>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T

export type UpdateStatusApi = Frozen<UpdateStatus>
export type ColumnInfoApi = Frozen<ColumnInfo>
export type IndexInfoApi = Frozen<IndexInfo>
export type Row = Record<string, unknown>
export type IfExists = 'error' | 'ignore' | 'replace' | 'replace_force'
export type IfNotExists = 'error' | 'ignore'
export type OnError = 'abort' | 'ignore'
export type JoinHow = 'inner' | 'left' | 'right' | 'full' | 'cross'

/** A version of a table, as history() lists it. */
export interface VersionInfoApi {
  readonly version: number
  readonly createdAt: Date
  readonly kind: string
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
  readonly errors: number
  readonly schema: Readonly<Record<string, string>>
}

/** An immutable query: each builder method returns a new one; nothing runs until collect/head/tail/first/count/stream. */
export interface QueryApi<T extends Row = Row> {
  where(cond: ExprLike): QueryApi<T>
  select<R extends Row = Row>(...args: (ExprLike | Record<string, ExprLike>)[]): QueryApi<R>
  orderBy(expr: ExprLike, direction?: 'asc' | 'desc'): QueryApi<T>
  groupBy(...exprs: ExprLike[]): QueryApi<T>
  limit(n: number): QueryApi<T>
  offset(n: number): QueryApi<T>
  distinct(): QueryApi<T>
  sample(options: { n?: number; fraction?: number; seed?: number }): QueryApi<T>
  collect(): Promise<ResultSet<T>>
  head(n?: number): Promise<ResultSet<T>>
  tail(n?: number): Promise<ResultSet<T>>
  first(): Promise<T | undefined>
  count(): Promise<number>
  stream(options?: { batchSize?: number }): AsyncGenerator<T>
  update(values: Row): Promise<unknown>
  delete(): Promise<unknown>
  /** The JSON form POST /api/v1/query takes. */
  toJSON(): unknown
}

/** A table (or view, snapshot, or a past version 'path:N') and what can be done with it. */
export interface TableApi {
  readonly path: string
  readonly name: string
  readonly version: number
  readonly isReadOnly: boolean
  readonly primaryKey: readonly string[]
  readonly c: Record<string, Expr>
  col(name: string): Expr
  columns(): readonly ColumnInfoApi[]
  schema(): Record<string, string>
  listIndexes(): readonly IndexInfoApi[]

  query(): QueryApi
  where(cond: ExprLike): QueryApi
  select(...args: (ExprLike | Record<string, ExprLike>)[]): QueryApi
  orderBy(expr: ExprLike, direction?: 'asc' | 'desc'): QueryApi
  groupBy(...exprs: ExprLike[]): QueryApi
  limit(n: number): QueryApi
  distinct(): QueryApi
  sample(options: { n?: number; fraction?: number; seed?: number }): QueryApi
  collect(): Promise<ResultSet>
  head(n?: number): Promise<ResultSet>
  tail(n?: number): Promise<ResultSet>
  count(): Promise<number>
  stream(options?: { batchSize?: number }): AsyncGenerator<Row>

  insert(rows: readonly Row[] | Row, options?: { onError?: OnError }): Promise<UpdateStatusApi>
  update(values: Row, options?: { where?: ExprLike; cascade?: boolean }): Promise<UpdateStatusApi>
  delete(options?: { where?: ExprLike }): Promise<UpdateStatusApi>
  batchUpdate(rows: readonly Row[], options?: { ifNotExists?: 'error' | 'ignore' | 'insert'; cascade?: boolean }): Promise<UpdateStatusApi>
  upsert(rows: readonly Row[]): Promise<UpdateStatusApi>

  addColumn(name: string, type: string, options?: { ifExists?: IfExists }): Promise<UpdateStatusApi>
  addColumns(schema: Record<string, string>, options?: { ifExists?: IfExists }): Promise<readonly UpdateStatusApi[]>
  addComputedColumn(name: string, expr: ExprLike, options?: { onError?: OnError; ifExists?: IfExists; stored?: boolean }): Promise<UpdateStatusApi>
  dropColumn(name: string, options?: { ifNotExists?: IfNotExists }): Promise<UpdateStatusApi>
  renameColumn(oldName: string, newName: string): Promise<UpdateStatusApi>
  addScalarIndex(column: string, options?: { ifExists?: 'error' | 'ignore' }): Promise<UpdateStatusApi>
  dropScalarIndex(column: string, options?: { ifNotExists?: IfNotExists }): Promise<UpdateStatusApi>
  recomputeColumns(names: string | readonly string[], options?: { where?: ExprLike; errorsOnly?: boolean; cascade?: boolean }): Promise<UpdateStatusApi>
  dropEmbeddingIndex(name: string, options?: { ifNotExists?: IfNotExists }): Promise<UpdateStatusApi>

  history(): Promise<readonly VersionInfoApi[]>
  revert(): Promise<{ readonly version: number }>
}

/** A database: dirs, tables, views and snapshots by path. `Table` is the handle type (Table or RemoteTable). */
export interface TesseraApi<Table extends TableApi = TableApi> {
  createDir(path: string, options?: { ifExists?: IfExists; parents?: boolean }): Promise<unknown>
  dropDir(path: string, options?: { force?: boolean; ifNotExists?: IfNotExists }): Promise<unknown>
  listDirs(path?: string, options?: { recursive?: boolean }): Promise<string[]>
  listTables(path?: string, options?: { recursive?: boolean }): Promise<string[]>
  move(from: string, to: string): Promise<void>
  /** The options are POST /tables's body without path and schema (src/api/requests.ts). */
  createTable(path: string, schema: Record<string, string>, options?: Omit<CreateTableRequest, 'path' | 'schema'>): Promise<Table>
  getTable(path: string): Promise<Table>
  get(path: string): Promise<Table>
  createView(path: string, base: Table | string, options?: { where?: ExprLike; iterator?: IteratorRequest; ifExists?: IfExists }): Promise<Table>
  createSnapshot(path: string, base: Table | string, options?: { ifExists?: IfExists }): Promise<Table>
  dropTable(path: string, options?: { force?: boolean; ifNotExists?: IfNotExists }): Promise<void>
  close(): Promise<void>
}
