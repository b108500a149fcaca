import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaultHome, Tessera } from '../catalog/index.ts'
import type { OpenOptions } from '../catalog/index.ts'
import { embeddedAssets, embeddedStoreAssets } from '../runtime/index.ts'
import { connect } from '../client/index.ts'
import type { RemoteTessera } from '../client/index.ts'
import type { OptionValues } from './command.ts'
import { CliError, err, UsageError } from './command.ts'

// What most commands work on: a data dir opened in this process (--home), or a running server over HTTP (--url,
// with --token). The client has the library's interface, so one command body serves both.

export type Target = Tessera | RemoteTessera

export function serverUrl(values: OptionValues): string | undefined {
  return (values.url as string | undefined) ?? (process.env.TESSERA_URL || undefined)
}

export function serverToken(values: OptionValues): string | undefined {
  return (values.token as string | undefined) ?? (process.env.TESSERA_TOKEN || undefined)
}

/** The --home value (or TESSERA_HOME), refused early when it names something that is not a directory. */
export function homeOption(values: OptionValues): string | undefined {
  const home = (values.home as string | undefined) ?? (process.env.TESSERA_HOME || undefined)
  if (home !== undefined && existsSync(home) && !statSync(home).isDirectory()) {
    throw new UsageError(`--home ${home} is a file, not a directory: pass the data dir's folder (or a new path to create one)`)
  }
  return home
}

/** Redacts the password of a database URL (postgres://user:***@host/db), for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, '$1:***@')
}

/**
 * The store settings every command that opens a database takes, as `tessera serve` does: flags, else TESSERA_*
 * environment. --database (TESSERA_DATABASE_URL) opens a PostgreSQL server instead of the data dir's embedded
 * database; --media-dir (TESSERA_MEDIA_DIR) or --media-store (TESSERA_MEDIA_STORE) say where media files are.
 */
export function storeOptions(values: OptionValues): Pick<OpenOptions, 'database' | 'mediaDir' | 'mediaStore'> {
  const database = (values.database as string | undefined) ?? (process.env.TESSERA_DATABASE_URL || undefined)
  return { ...(database ? { database } : {}), ...mediaStoreOptions(values) }
}

/** Where media files are (--media-dir / TESSERA_MEDIA_DIR, --media-store / TESSERA_MEDIA_STORE): the same as serve. */
export function mediaStoreOptions(values: Record<string, unknown>): Pick<OpenOptions, 'mediaDir' | 'mediaStore'> {
  const dirFlag = values['media-dir'] as string | undefined
  const storeFlag = values['media-store'] as string | undefined
  if (dirFlag !== undefined && storeFlag !== undefined) throw new UsageError('pass either --media-dir or --media-store, not both')
  if (dirFlag !== undefined) return { mediaDir: dirFlag }
  if (storeFlag !== undefined) return { mediaStore: storeFlag }
  const mediaDir = process.env.TESSERA_MEDIA_DIR || undefined
  const mediaStore = process.env.TESSERA_MEDIA_STORE || undefined
  return { ...(mediaDir ? { mediaDir } : {}), ...(mediaStore ? { mediaStore } : {}) }
}

/**
 * A running server (--url, TESSERA_URL) or undefined: this process opens the store itself. A flag beats the
 * environment; --url with --database (or both variables and no flag) is refused rather than guessed, and so is a
 * server with --home (a data dir), whichever command asks.
 */
export function remoteUrl(values: OptionValues): string | undefined {
  const url = chosenUrl(values)
  if (url !== undefined && values.home !== undefined) throw new UsageError('pass either --home (a data dir) or --url (a server), not both')
  return url
}

/** remoteUrl's choice between the flags and the environment. */
function chosenUrl(values: OptionValues): string | undefined {
  if (values.url !== undefined) {
    if (values.database !== undefined) throw new UsageError('pass either --url (a running server) or --database (a PostgreSQL server this command opens), not both')
    for (const flag of ['media-dir', 'media-store'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for a data dir or --database; a server (--url) has its own media settings`)
    }
    return values.url as string
  }
  if (values.database !== undefined) return undefined
  const url = process.env.TESSERA_URL || undefined
  if (url !== undefined && process.env.TESSERA_DATABASE_URL) {
    throw new UsageError('both TESSERA_URL (a running server) and TESSERA_DATABASE_URL (a database) are set: pass --url or --database to say which, or unset one')
  }
  return url
}

/** Options of openTarget / openHome. */
export interface OpenHow {
  /** Open options for a data dir (env namespace); a server has its own. */
  readonly extra?: Partial<OpenOptions>
  /**
   * Refuse a data dir that holds no database instead of creating one (read-only commands: a mistyped --home must
   * not answer "0 tables" from a new empty dir).
   */
  readonly mustExist?: boolean
}

export async function openTarget(values: OptionValues, command: string, how: OpenHow = {}): Promise<Target> {
  const url = remoteUrl(values)
  if (url !== undefined) {
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must start with http:// or https://, got '${url}'`)
    const token = serverToken(values)
    return connect(url, token ? { token } : {})
  }
  return openHome(values, command, how)
}

/**
 * Opens the store in this process: the data dir (--home), or the PostgreSQL server of --database /
 * TESSERA_DATABASE_URL, with the media settings of serve (commands that work on files: backup, import, export).
 */
export async function openHome(values: OptionValues, command: string, how: OpenHow = {}): Promise<Tessera> {
  const home = homeOption(values)
  const store = storeOptions(values)
  if (!store.database && how.mustExist) assertDataDir(home)
  return openDataDir({ ...how.extra, ...(home ? { home } : {}), ...store, command, ...(store.database ? {} : await freshStart(home)) })
}

/** Refuses a data dir that does not exist, or holds no database, instead of creating an empty one. */
export function assertDataDir(home: string | undefined): void {
  const dir = resolve(home ?? defaultHome())
  const where = home !== undefined ? (process.env.TESSERA_HOME && home === process.env.TESSERA_HOME ? ' (TESSERA_HOME)' : ' (--home)') : ` (the default${process.env.TESSERA_HOME ? ', TESSERA_HOME' : ''})`
  if (!existsSync(dir)) throw new CliError(`data dir ${dir}${where} does not exist: check the path, or create it with 'tessera init --home ${dir}'`)
  if (!existsSync(join(dir, 'pgdata'))) throw new CliError(`${dir}${where} is not a Tessera data dir (it has no pgdata/): check the path, or create one with 'tessera init --home ${dir}'`)
}

/**
 * Tessera.open, saying so on stderr when it takes longer than a second (a slow disk, a large catalog, migrations
 * after an upgrade, a loaded machine), so a slow start is never a silent one. Said by `serve` always (its output is a
 * log) and by one-shot commands only to a terminal (a script reading their stderr gets only errors).
 */
export async function openDataDir(options: OpenOptions, say: { always?: boolean } = {}): Promise<Tessera> {
  const where = options.database ? 'the database server' : `the data dir ${resolve(options.home ?? defaultHome())}`
  const started = performance.now()
  const tell = say.always || process.stderr.isTTY ? err : () => undefined
  const notice = setTimeout(() => tell(`opening ${where} ...`), 1000)
  try {
    const db = await openLocal(options).catch((e: unknown) => {
      throw options.database ? databaseOpenFailure(e, options.database) : e
    })
    const ms = performance.now() - started
    if (ms >= 1000) tell(`opened ${where} in ${(ms / 1000).toFixed(1)} s`)
    return db
  } finally {
    clearTimeout(notice)
  }
}

/**
 * Tessera.open with the store assets this entry point carries: inside the binary its embedded engine (the same
 * paths bin/tessera.ts gave the prestarted store worker), from sources none (PGlite's own in node_modules).
 * Every command that opens a data dir opens it through here.
 */
export async function openLocal(options: OpenOptions): Promise<Tessera> {
  const assets = options.database || options.assets ? undefined : await embeddedStoreAssets()
  return Tessera.open(assets ? { ...options, assets } : options)
}

export function isRemote(target: Target): target is RemoteTessera {
  return !(target instanceof Tessera)
}

/** Runs `fn` on the target and closes it afterwards (the data dir's lock is released even when fn fails). */
export async function withTarget<T>(values: OptionValues, command: string, fn: (db: Target) => Promise<T>, how: OpenHow = {}): Promise<T> {
  const db = await openTarget(values, command, how)
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/**
 * How a data dir that has no database yet starts: the binary writes the initialized database it carries (well under
 * a second); from sources, initdb and the migrations run (seconds), and a line says so instead of a silent wait.
 * Returns nothing to pass on (the database is in place, or Tessera.open initializes one).
 */
export async function freshStart(home: string | undefined): Promise<{ restoreFrom?: Blob }> {
  const dir = resolve(home ?? defaultHome())
  if (existsSync(join(dir, 'pgdata'))) return {}
  const assets = await embeddedAssets()
  if (assets) {
    mkdirSync(dir, { recursive: true })
    await assets.writeDatabaseTemplate(join(dir, 'pgdata'))
    return {}
  }
  err(`initializing a new data dir at ${dir} (a few seconds, once)`)
  return {}
}

/** Network failures that mean the database server was not reached (postgres.js and the runtime's socket codes). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'CONNECT_TIMEOUT', 'ConnectionRefused', 'FailedToOpenSocket', 'ConnectionClosed'])

/**
 * A database server that did not open, said in one line naming it (password hidden) and where the URL came from:
 * exit 4 when it cannot be reached, 1 when it refused (authentication, a missing database, a bad URL).
 */
export function databaseOpenFailure(e: unknown, database: string): CliError {
  const error = e as { code?: string; message?: string; cause?: { code?: string } }
  const shown = redactUrl(database)
  const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^/?#]*)@/i.exec(database)?.[1]
  const clean = (m: string) => (password ? m.split(password).join('***') : m)
  const code = error?.code ?? error?.cause?.code
  const reason = clean(error?.message ?? String(e))
  if (code && UNREACHABLE.has(code)) {
    return new CliError(`cannot reach the database server ${shown} (--database or TESSERA_DATABASE_URL): ${code === 'ECONNREFUSED' || code === 'ConnectionRefused' ? 'connection refused' : reason}; is PostgreSQL running there?`, EXIT_UNREACHABLE, { cause: e })
  }
  return new CliError(`cannot open the database server ${shown} (--database or TESSERA_DATABASE_URL): ${reason}`, 1, { cause: e })
}

const EXIT_UNREACHABLE = 4
