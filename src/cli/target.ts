import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaultHome, Tessera } from '../catalog/index.ts'
import type { OpenOptions } from '../catalog/index.ts'
import { embeddedAssets, embeddedStoreAssets } from '../runtime/index.ts'
import { connect } from '../client/index.ts'
import type { RemoteTessera } from '../client/index.ts'
import type { OptionValues } from './command.ts'
import { err, UsageError } from './command.ts'

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

/** `extra`: open options for a data dir (env namespace, media store); a server has its own. */
export async function openTarget(values: OptionValues, command: string, extra: Partial<OpenOptions> = {}): Promise<Target> {
  const url = serverUrl(values)
  if (url !== undefined) {
    if (values.home !== undefined) throw new UsageError('pass either --home (a data dir) or --url (a server), not both')
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must start with http:// or https://, got '${url}'`)
    const token = serverToken(values)
    return connect(url, token ? { token } : {})
  }
  const home = homeOption(values)
  return openDataDir({ ...extra, ...(home ? { home } : {}), command, ...(await freshStart(home)) })
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
    const db = await openLocal(options)
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
export async function withTarget<T>(values: OptionValues, command: string, fn: (db: Target) => Promise<T>, extra: Partial<OpenOptions> = {}): Promise<T> {
  const db = await openTarget(values, command, extra)
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/** Opens the data dir (--home) in this process, for commands that work on files (backup, import, export). */
export async function openHome(values: OptionValues, command: string): Promise<Tessera> {
  const home = homeOption(values)
  return openDataDir({ ...(home ? { home } : {}), command, ...(await freshStart(home)) })
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
