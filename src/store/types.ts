// The store contract: the few verbs Tessera needs from a SQL database. PGlite implements it in-process; a
// PostgreSQL-server driver implements the same shape, so the catalog and query layers never know which is below.

export interface QueryResult<R = Record<string, unknown>> {
  readonly rows: R[]
  readonly affectedRows: number
}

export interface QueryOptions {
  /**
   * Keep this statement prepared (named) on the connection and reuse it when the same text comes again: the query
   * compiler sets it for plans it caches by shape. The server store prepares every statement anyway.
   */
  readonly prepare?: boolean
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>
  /** Runs one or more statements without parameters (DDL, migrations). */
  exec(sql: string): Promise<void>
  /**
   * COPY `target` (a quoted table and column list) FROM a payload in COPY's binary format, in this session and inside
   * its transaction when one is open. PGlite only: its text input functions cost microseconds a number in WASM, the
   * binary ones next to nothing (vectors: measured ~40x faster than a jsonb document). Absent elsewhere.
   */
  copyBinaryFrom?(target: string, payload: Uint8Array, options?: CopyOptions): Promise<number>
  /**
   * The rows of `select` (a query without parameters) in COPY's binary format (COPY (select) TO). PGlite only: its
   * output functions print numbers as text in WASM, and the text is parsed again here; binary output is bytes as they
   * are (a native index's vectors: ~2.5x less CPU to read out, BENCHMARKS.md issue 16). Absent elsewhere.
   */
  copyBinaryTo?(select: string): Promise<Uint8Array>
}

export interface CopyOptions {
  /**
   * Called with the milliseconds a COPY run as its own store call held the store: from its turn to its answer, not
   * the time it waited for that turn behind reads (a bulk load sizes its next COPY from this). Inside a transaction
   * it is not called: the transaction's caller measures the store time it holds.
   */
  readonly onHeld?: (ms: number) => void
}

export interface StoreCapabilities {
  /** pgvector is installed and usable. */
  readonly vector: boolean
  /**
   * One connection that every statement waits for (PGlite): long writes are cut into short steps under a version
   * readers cannot see yet, so reads get the store between steps (src/catalog/commit.ts). A server store has real
   * concurrency (MVCC): a long write transaction blocks no reader, so it writes in one transaction.
   */
  readonly stagedWrites?: boolean
}

export interface TransactionOptions {
  /**
   * Serialises this transaction with every other one naming the same key, in any process (a table id: writes and
   * schema changes of one table). PGlite is one connection and ignores it; the server store takes an advisory lock.
   */
  readonly lockKey?: number
  /**
   * Background work (jobs) waits behind foreground writes on a single-connection store, but never starves
   * (src/store/scheduler.ts). Ignored by server stores.
   */
  readonly priority?: 'write' | 'background'
}

export interface Driver extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  readonly capabilities: StoreCapabilities
  /**
   * Runs fn in one transaction; commits when it resolves, rolls back when it throws. A server store may run fn
   * again after a serialization failure, so fn must only act through `tx` (reset any counters it fills).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>
  /**
   * Server stores shared by several processes: calls onMessage with each payload NOTIFYed on `channel` until the
   * returned function is called. Absent on PGlite (one process owns the store, nothing to hear).
   */
  listen?(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>
  /**
   * Bulk load through COPY: `target` is a quoted table and column list (`t ("a", "b")`), `csv` rows in COPY's CSV
   * format (unquoted empty field = NULL). Returns the rows loaded. Runs outside any transaction (its own statement).
   * Absent where the store has no safe COPY path (the server store: callers fall back to a parameterized insert).
   */
  copyFrom?(target: string, csv: string, options?: CopyOptions): Promise<number>
  close(): Promise<void>
}
