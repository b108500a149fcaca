import { AsyncLocalStorage } from 'node:async_hooks'
import { TesseraError } from '../errors.ts'
import { databaseOf } from '../query/index.ts'
import type { Query } from '../query/index.ts'

// The token a request runs under, for the code it reaches indirectly: a retrieval function inside a select, an
// insert's computed column or an MCP tool call reads other tables than the one the route checked, so it checks them
// here against the same scopes. The server hands in the check (src/ai knows nothing of tokens); outside a request
// (the library, background jobs) there is no caller and no check. Ambient like the media access rules, because
// function evaluation has no request context of its own to pass it through.

export interface Caller {
  /** Names the caller in errors ('token tenant1'). */
  readonly name: string
  canRead(tablePath: string): boolean
  /**
   * The table path prefixes it may read (its scopes); absent: every table. What a computed column it defines keeps,
   * so the column reads no more for a later writer than its author could (src/catalog/author.ts).
   */
  readonly readable?: readonly string[]
  /**
   * The store the server serves (Tessera.driver). Functions are process-wide: with two databases in one process, a
   * retrieval function over the other one's tables would read them under a token of this one (its paths pass the
   * scope check by name alone).
   */
  readonly database?: unknown
}

const current = new AsyncLocalStorage<Caller>()

export function withCaller<T>(caller: Caller, fn: () => T): T {
  return current.run(caller, fn)
}

export function currentCaller(): Caller | undefined {
  return current.getStore()
}

/** Throws FORBIDDEN unless the current caller (if any) may read every table in `paths`. */
export function requireCallerRead(paths: readonly string[], what: string): void {
  const caller = current.getStore()
  if (!caller) return
  for (const path of paths) {
    // The table is not named: it lies outside the caller's scopes (another tenant's, perhaps), and this message may
    // be stored in a cell the caller reads (a computed column's per-cell error) or reach it past the HTTP redaction.
    if (!caller.canRead(path)) throw new TesseraError('FORBIDDEN', `${caller.name} has no read access to a table ${what} reads`, { access: 'read' })
  }
}

/**
 * Throws FORBIDDEN unless the current caller (if any) may run `q`: a query of the database it is served by (when it
 * says which) over tables it may read.
 */
export function requireCallerQuery(q: Query, tables: readonly string[], what: string): void {
  const caller = current.getStore()
  if (!caller) return
  const database = databaseOf(q)
  if (caller.database !== undefined && database !== undefined && database !== caller.database) {
    throw new TesseraError('FORBIDDEN', `${what} reads a database other than the one this server serves`, { access: 'read' })
  }
  requireCallerRead(tables, what)
}
