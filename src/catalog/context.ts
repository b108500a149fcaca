import { withProviderConfigs } from '../ai/index.ts'
import type { ProviderConfig } from '../ai/index.ts'
import { withMediaAccess, withMediaEnv } from '../media/index.ts'
import type { MediaAccess, MediaEnv } from '../media/index.ts'
import { functions } from '../query/index.ts'
import type { FunctionRegistry } from '../query/index.ts'
import type { Driver } from '../store/index.ts'

// The execution context of one database (Pixeltable's ExecContext): what its queries, writes, evaluation and functions
// run with. The database builds it at open and passes it down: the commit unit (src/catalog/commit.ts) runs every
// write inside it, a table's queries run inside it (QueryBackend.run), and background jobs run inside it. Functions
// are called by the evaluator with their arguments only, so the parts they need reach them through the scopes this
// enters (the current media environment, the caller's access, the provider settings); two databases open in one
// process therefore never see each other's media store or provider keys.

export interface ExecContext {
  /** The database's store. */
  readonly db: Driver
  /** Where media the database's functions derive are written, and its remote-file cache. */
  readonly media: MediaEnv
  /** The caller's access to local files and private URLs; unset: whatever the request entered (src/server/app.ts). */
  readonly access?: MediaAccess
  /** The function registry its expressions resolve against (today the process-wide built-ins and UDFs). */
  readonly functions: FunctionRegistry
  /** Per-provider settings (base URL, key, limits) over the process-wide ones: Tessera.open({ providers }). */
  readonly providers: Readonly<Record<string, ProviderConfig>>
  /**
   * Store session settings every connection of this database gets when it opens (the PostgreSQL driver sends them at
   * connect, PGlite sets them on its one connection), never a SET on a connection someone else shares.
   */
  readonly settings: Readonly<Record<string, string>>
}

export function execContext(parts: Omit<ExecContext, 'functions' | 'providers' | 'settings'> & Partial<Pick<ExecContext, 'providers' | 'settings'>>): ExecContext {
  return Object.freeze({ functions, providers: {}, settings: {}, ...parts })
}

/** Runs fn (and everything it awaits) in a database's context; without one, as is. */
export function inContext<T>(ctx: ExecContext | undefined, fn: () => Promise<T>): Promise<T> {
  if (!ctx) return fn()
  const inner = () => withProviderConfigs(ctx.providers, () => withMediaEnv(ctx.media, fn))
  return ctx.access ? withMediaAccess(ctx.access, inner) : inner()
}

/**
 * Sets a database's session settings on a store that is one connection (PGlite), where a session setting reaches
 * every statement of this database and no other. Server stores get them when each pooled connection opens
 * (PostgresDriver.open({ settings })): a SET on one connection of a pool would reach only that connection.
 */
export async function applySessionSettings(db: Driver, settings: Readonly<Record<string, string>>): Promise<void> {
  if (db.kind !== 'pglite') return
  for (const [name, value] of Object.entries(settings)) await db.query('select set_config($1, $2, false)', [name, value])
}
