import { alreadyExists, invalid, notFound } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { IfExists, IfNotExists } from './metadata.ts'
import { parentOf, parsePath } from './paths.ts'
import { isReplacingPath } from './replacing-path.ts'

// Directories are namespaces ('prod_app', 'user_42/photos'); the root '' always exists. A dir and a table never
// share a path.

export async function dirExists(db: Queryable, path: string): Promise<boolean> {
  if (path === '') return true
  return (await db.query(`select 1 from tessera.dirs where path = $1`, [path])).rows.length > 0
}

export async function tableExists(db: Queryable, path: string): Promise<boolean> {
  return (await db.query(`select 1 from tessera.tables where path = $1`, [path])).rows.length > 0
}

export async function requireParentDir(db: Queryable, path: string, creating: 'dir' | 'table' = 'dir'): Promise<void> {
  const parent = parentOf(path)
  if (!(await dirExists(db, parent))) {
    // Only createDir takes parents: true; a table's dir is made first.
    const fix = creating === 'dir' ? 'create it first or pass parents: true' : `create it first with createDir('${parent}', { parents: true })`
    throw notFound('DIR_NOT_FOUND', `directory '${parent}' does not exist (needed for '${path}'); ${fix}`, { path: parent })
  }
}

export interface CreateDirOptions {
  readonly ifExists?: Exclude<IfExists, 'replace_force'> | 'replace_force'
  /** Create missing parent dirs as well. */
  readonly parents?: boolean
}

/** Returns true when a dir was created. 'replace' empties nothing: it only succeeds on an empty dir. */
export async function createDir(db: Queryable, input: string, options: CreateDirOptions, dropDirContents: (path: string) => Promise<void>): Promise<boolean> {
  const { path, parts } = parsePath(input)
  const ifExists = options.ifExists ?? 'error'
  if (await tableExists(db, path)) throw alreadyExists('PATH_ALREADY_EXISTS', `'${path}' is a table, not a directory`, { path })
  if (await dirExists(db, path)) {
    if (ifExists === 'ignore') return false
    if (ifExists === 'error') throw alreadyExists('DIR_ALREADY_EXISTS', `directory '${path}' already exists; pass ifExists: 'ignore' to keep it`, { path })
    const children = await listChildren(db, path)
    if (children > 0 && ifExists === 'replace') {
      throw invalid('DIR_NOT_EMPTY', `directory '${path}' is not empty; ifExists: 'replace_force' replaces it with its contents`, { path })
    }
    await dropDirContents(path)
    return true
  }
  if (options.parents) {
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/')
      if (await tableExists(db, p)) throw alreadyExists('PATH_ALREADY_EXISTS', `'${p}' is a table, not a directory`, { path: p })
      await db.query(`insert into tessera.dirs(path) values ($1) on conflict (path) do nothing`, [p])
    }
  } else {
    await requireParentDir(db, path)
  }
  await db.query(`insert into tessera.dirs(path) values ($1)`, [path])
  return true
}

export async function listChildren(db: Queryable, path: string): Promise<number> {
  const prefix = `${path}/`
  const r = await db.query<{ n: number }>(
    `select (select count(*) from tessera.dirs where starts_with(path, $1)) + (select count(*) from tessera.tables where starts_with(path, $1)) as n`,
    [prefix],
  )
  return Number(r.rows[0]!.n)
}

export interface ListOptions {
  readonly recursive?: boolean
}

export async function listDirs(db: Queryable, input = '', options: ListOptions = {}): Promise<string[]> {
  const { path } = parsePath(input, { allowRoot: true })
  if (!(await dirExists(db, path))) throw notFound('DIR_NOT_FOUND', `directory '${path}' does not exist`, { path })
  const r = await db.query<{ path: string }>(`select path from tessera.dirs where starts_with(path, $1) order by path`, [path === '' ? '' : `${path}/`])
  return r.rows.map((x) => x.path).filter((p) => options.recursive || parentOf(p) === path)
}

export async function listTables(db: Queryable, input = '', options: ListOptions = {}): Promise<string[]> {
  const { path } = parsePath(input, { allowRoot: true })
  if (!(await dirExists(db, path))) throw notFound('DIR_NOT_FOUND', `directory '${path}' does not exist`, { path })
  const r = await db.query<{ path: string }>(`select path from tessera.tables where starts_with(path, $1) order by path`, [path === '' ? '' : `${path}/`])
  // A view being made to replace another is not listed until it takes its path (src/catalog/replace.ts).
  return r.rows.map((x) => x.path).filter((p) => (options.recursive || parentOf(p) === path) && !isReplacingPath(p))
}

export interface DropDirOptions {
  readonly force?: boolean
  readonly ifNotExists?: IfNotExists
}

/** Gives table `id` the free path `to`: a replacing view taking its path once synced (src/catalog/replace.ts). */
export async function takeTablePath(db: Queryable, id: number, to: string): Promise<void> {
  if ((await dirExists(db, to)) || (await tableExists(db, to))) throw alreadyExists('PATH_ALREADY_EXISTS', `'${to}' already exists`, { path: to })
  await requireParentDir(db, to, 'table')
  await db.query(`update tessera.tables set path = $2 where id = $1`, [id, to])
}

/**
 * The refusal of an action on a path where no table, view, snapshot or dir is (move, the CLI's drop): not
 * DIR_NOT_FOUND, which told a client moving or dropping a table that a directory was missing.
 */
export const nothingAt = (action: string, path: string) =>
  notFound('NOT_FOUND', `nothing to ${action} at '${path}': no table, view, snapshot or directory has that path`, { path })

/** Moves a dir (with everything below it) or a table to a new path. */
export async function movePath(db: Queryable, fromInput: string, toInput: string): Promise<void> {
  const from = parsePath(fromInput).path
  const to = parsePath(toInput).path
  if (from === to) return
  if (to.startsWith(`${from}/`)) throw invalid('INVALID_ARGUMENT', `cannot move '${from}' into itself ('${to}')`)
  if ((await dirExists(db, to)) || (await tableExists(db, to))) throw alreadyExists('PATH_ALREADY_EXISTS', `'${to}' already exists`, { path: to })
  await requireParentDir(db, to)
  if (await tableExists(db, from)) {
    await db.query(`update tessera.tables set path = $2 where path = $1`, [from, to])
    return
  }
  if (!(await dirExists(db, from))) throw nothingAt('move', from)
  const n = from.length + 1
  await db.query(`update tessera.dirs set path = $2 where path = $1`, [from, to])
  await db.query(`update tessera.dirs set path = $2 || substr(path, $3) where starts_with(path, $1)`, [`${from}/`, to, n])
  await db.query(`update tessera.tables set path = $2 || substr(path, $3) where starts_with(path, $1)`, [`${from}/`, to, n])
}
