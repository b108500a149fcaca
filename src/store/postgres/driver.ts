import postgres from 'postgres'
import type { Driver, Queryable, QueryOptions, QueryResult, StoreCapabilities, TransactionOptions } from '../types.ts'
import { isRetryable, retryDelayMs } from './retry.ts'
import { PG_TYPES } from './types.ts'

// The server store: a PostgreSQL server reached through the `postgres` package, shared by many Tessera processes.
// Transactions are SERIALIZABLE and retried on serialization failures and deadlocks; a transaction that names a
// lock key (a table id) first takes a PostgreSQL advisory lock on it, so writers of one table queue instead of
// failing each other (see transaction()).

export interface PostgresOpenOptions {
  /** postgres://user:password@host:port/database (sslmode etc. as query parameters). */
  readonly url: string
  /** Pool size of this process (default 10). */
  readonly max?: number
  /** Attempts of a transaction that keeps hitting serialization failures or deadlocks (default 12). */
  readonly maxAttempts?: number
  /** Session settings every pooled connection starts with (sent at connect): the database's, not one SET somewhere. */
  readonly settings?: Readonly<Record<string, string>>
}

type Sql = postgres.Sql<Record<string, never>>
type Conn = postgres.ReservedSql<Record<string, never>> | Sql

/** Advisory locks live in one 64-bit key space shared by every application on the server: Tessera's half is this. */
export const ADVISORY_NAMESPACE = 0x7e55e7a

class PostgresQueryable implements Queryable {
  constructor(protected readonly conn: Conn) {}

  // options.prepare is the default here: every statement is prepared (named) on its connection.
  async query<R>(sql: string, params?: readonly unknown[], _options?: QueryOptions): Promise<QueryResult<R>> {
    // Named prepared statements: one round trip per query once a connection has seen the statement.
    const r = await this.conn.unsafe(sql, (params ?? []) as postgres.ParameterOrJSON<never>[], { prepare: true })
    return { rows: [...r] as R[], affectedRows: r.count ?? 0 }
  }

  async exec(sql: string): Promise<void> {
    // No parameters: the simple protocol, which runs several statements in one call (migrations, DDL).
    await this.conn.unsafe(sql)
  }
}

export class PostgresDriver extends PostgresQueryable implements Driver {
  readonly kind = 'postgres' as const
  readonly capabilities: StoreCapabilities
  readonly #sql: Sql
  readonly #maxAttempts: number
  /** Serialization failures and deadlocks retried since open (tests and benchmarks read it). */
  retries = 0

  private constructor(sql: Sql, capabilities: StoreCapabilities, maxAttempts: number) {
    super(sql)
    this.#sql = sql
    this.capabilities = capabilities
    this.#maxAttempts = maxAttempts
  }

  static async open(options: PostgresOpenOptions): Promise<PostgresDriver> {
    const sql = postgres(options.url, {
      max: options.max ?? 10,
      types: PG_TYPES,
      // Server notices ('schema already exists, skipping') are not the user's business.
      onnotice: () => undefined,
      transform: { undefined: null },
      // Session settings the database asks for on every pooled connection (pgvector's iterative index scans, so a
      // filtered top-k still returns k rows); a query's own hnsw.ef_search is SET LOCAL in its transaction.
      connection: { application_name: 'tessera', ...options.settings },
    }) as unknown as Sql
    try {
      const capabilities = { vector: await enableVector(sql) }
      return new PostgresDriver(sql, capabilities, options.maxAttempts ?? 12)
    } catch (e) {
      await sql.end({ timeout: 1 })
      throw e
    }
  }

  /**
   * Runs fn in a SERIALIZABLE transaction on one connection, retrying the whole of fn (with jittered exponential
   * backoff) when PostgreSQL reports a serialization failure (40001) or a deadlock (40P01). fn must therefore be
   * safe to run again: it only talks to the database through `tx`.
   *
   * options.lockKey: a session advisory lock on (ADVISORY_NAMESPACE, key) is taken BEFORE `begin`. A
   * transaction-scoped pg_advisory_xact_lock would be taken after the serializable snapshot (the SELECT that takes
   * it takes the snapshot), so every writer that waited on it would then fail with 40001 and retry; taken before
   * the snapshot, the waiter starts from the committed state of the previous holder and succeeds first time.
   * The lock is released after commit or rollback, and with the connection if this process dies.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(fn, options.lockKey)
      } catch (e) {
        if (!isRetryable(e) || attempt >= this.#maxAttempts) throw e
        this.retries++
        await new Promise((r) => setTimeout(r, retryDelayMs(attempt)))
      }
    }
  }

  async #once<T>(fn: (tx: Queryable) => Promise<T>, lockKey: number | undefined): Promise<T> {
    const conn = await this.#sql.reserve()
    let locked = false
    try {
      if (lockKey !== undefined) {
        await conn.unsafe('select pg_advisory_lock($1, $2)', [ADVISORY_NAMESPACE, lockKey], { prepare: true })
        locked = true
      }
      await conn.unsafe('begin isolation level serializable')
      let result: T
      try {
        result = await fn(new PostgresQueryable(conn))
      } catch (e) {
        await conn.unsafe('rollback').catch(() => undefined)
        throw e
      }
      await conn.unsafe('commit')
      return result
    } finally {
      // If the unlock fails the connection is broken, and the server frees its locks with it.
      if (locked) await conn.unsafe('select pg_advisory_unlock($1, $2)', [ADVISORY_NAMESPACE, lockKey!], { prepare: true }).catch(() => undefined)
      conn.release()
    }
  }

  /** Runs fn while holding the session advisory lock `key` (catalog migrations: one process at a time). */
  async withLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const conn = await this.#sql.reserve()
    try {
      await conn.unsafe('select pg_advisory_lock($1, $2)', [ADVISORY_NAMESPACE, key], { prepare: true })
      try {
        return await fn()
      } finally {
        await conn.unsafe('select pg_advisory_unlock($1, $2)', [ADVISORY_NAMESPACE, key], { prepare: true }).catch(() => undefined)
      }
    } finally {
      conn.release()
    }
  }

  /**
   * Calls onMessage with each payload NOTIFYed on `channel` (by any process on the server) until the returned
   * function is called. postgres.js re-LISTENs by itself after a reconnect.
   */
  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.#sql.listen(channel, onMessage)
    return unlisten
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 })
  }
}

/**
 * pgvector is optional on a server: it is enabled when installed (CREATE EXTENSION needs the right privilege, or
 * an administrator who ran it once), and capabilities.vector says whether embedding indexes can be created.
 */
async function enableVector(sql: Sql): Promise<boolean> {
  const available = await sql.unsafe(`select installed_version from pg_available_extensions where name = 'vector'`)
  if (available.length === 0) return false
  if (available[0]!.installed_version) return true
  try {
    await sql.unsafe('create extension if not exists vector')
    return true
  } catch {
    return false
  }
}
