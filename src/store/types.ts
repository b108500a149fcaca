// The store contract: the few verbs Tessera needs from a SQL database. PGlite implements it in-process; a
// PostgreSQL-server driver implements the same shape, so the catalog and query layers never know which is below.

export interface QueryResult<R = Record<string, unknown>> {
  readonly rows: R[]
  readonly affectedRows: number
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /** Runs one or more statements without parameters (DDL, migrations). */
  exec(sql: string): Promise<void>
}

export interface StoreCapabilities {
  /** pgvector is installed and usable. */
  readonly vector: boolean
}

export interface Driver extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  readonly capabilities: StoreCapabilities
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}
