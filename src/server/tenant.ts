import type { Tessera } from '../catalog/index.ts'
import { errorOf, notFound } from '../errors.ts'
import type { TesseraError } from '../errors.ts'
import { canAccess, canSee } from './auth.ts'
import type { Access, Principal } from './auth.ts'

// The tenant boundary, in one place. Every route asks assertCanTouch before it looks anything up, so the answer for
// a path a token may not read is the same 404 whether the path exists or not (no existence oracle), and errors
// never name another tenant's objects: an operation on A that would touch B (a force drop of A that drops B's view,
// a revert of A past B's snapshot) needs write access to B, and is refused without naming B otherwise.

export type TouchKind = 'table' | 'dir' | 'path'

/** The answer for something the caller may not see: word for word the catalog's answer for a missing one. */
export function invisible(kind: TouchKind, path: string): TesseraError {
  return kind === 'dir'
    ? notFound('DIR_NOT_FOUND', `directory '${path}' does not exist`, { path })
    : notFound('TABLE_NOT_FOUND', `table '${path}' does not exist`, { path })
}

/**
 * May `p` touch `path` with `mode`? No read access: the same 404 as a missing object. Read but not write: 403
 * (the caller can see it, so saying so leaks nothing). 'create' never looks anything up: 403 without read access.
 */
export function assertCanTouch(p: Principal, path: string, mode: Access | 'create', kind: TouchKind = 'table'): void {
  if (mode === 'create') {
    if (!canAccess(p, path, 'write')) throw errorOf('FORBIDDEN', `token '${p.name}' may not create '${path}'`, { path })
    return
  }
  if (!canAccess(p, path, 'read')) throw invisible(kind, path)
  if (mode === 'write' && !canAccess(p, path, 'write')) throw errorOf('FORBIDDEN', `token '${p.name}' has no write access to '${path}'`, { path, access: 'write' })
}

/** A dir a caller lists: visible when inside its scopes or above them (to navigate down); else missing. */
export function assertCanList(p: Principal, dir: string): void {
  if (dir !== '' && !canSee(p, dir)) throw invisible('dir', dir)
}

export const visibleOnly = (p: Principal, paths: readonly string[]): string[] => paths.filter((x) => canSee(p, x))

/**
 * Views and snapshots over `paths` (and over those, transitively): what a force drop of them would also drop.
 * Only asked for non-admin callers (admins may drop anything), so the catalog walk is paid where it matters.
 */
async function dependentsOf(db: Tessera, paths: readonly string[]): Promise<string[]> {
  const all = await db.listTables('', { recursive: true })
  const bases = new Map<number, string[]>()
  const ids = new Map<string, number>()
  for (const path of all) {
    const t = await db.getTable(path).catch(() => undefined)
    if (!t) continue
    ids.set(path, t.id)
    const baseId = t.md.view?.baseId ?? t.md.snapshot?.baseId
    if (baseId !== undefined) bases.set(baseId, [...(bases.get(baseId) ?? []), path])
  }
  const out = new Set<string>()
  const queue = paths.map((p) => ids.get(p)).filter((x): x is number => x !== undefined)
  while (queue.length > 0) {
    for (const dep of bases.get(queue.pop()!) ?? []) {
      if (out.has(dep)) continue
      out.add(dep)
      queue.push(ids.get(dep)!)
    }
  }
  return [...out]
}

/** A force drop of `paths` (tables, or everything in a dir) may only drop dependents the caller may write. */
export async function assertDependentsWritable(db: Tessera, p: Principal, paths: readonly string[], what: string): Promise<void> {
  if (p.admin) return
  const foreign = (await dependentsOf(db, paths)).filter((d) => !canAccess(p, d, 'write'))
  if (foreign.length > 0) {
    throw errorOf('HAS_DEPENDENTS', `${what} has views or snapshots outside this token's scope; they are not dropped with it: ask their owner or an admin to drop them first`)
  }
}

const PATH_KEYS = ['dependents', 'snapshot', 'view', 'path', 'table'] as const

/**
 * An error about to be answered, with another tenant's names taken out: when its details name a path the caller may
 * not read (a revert refused because B's snapshot pins a version), the message and those details go.
 */
export function redactForeignNames(p: Principal | undefined, err: TesseraError): TesseraError {
  if (!p || p.admin || !err.details) return err
  const named = PATH_KEYS.flatMap((k) => {
    const x = err.details![k]
    // A request's own field path (`limit`, `where`, `select.y`) is in details.path too, in front of the message (the
    // client strips it there: src/client/http-executor.ts); shaped like a root-level table path, it is no name.
    if (k === 'path' && typeof x === 'string' && err.message.startsWith(`${x}: `)) return []
    return typeof x === 'string' ? [x] : Array.isArray(x) ? x.filter((y): y is string => typeof y === 'string') : []
  })
  const foreign = named.some((path) => /^[A-Za-z_][\w/]*(?::\d+)?$/.test(path) && !canAccess(p, path.replace(/:\d+$/, ''), 'read'))
  if (!foreign) return err
  return errorOf(err.code, err.code === 'HAS_DEPENDENTS'
    ? 'this change would affect views or snapshots outside this token\'s scope; ask their owner or an admin'
    : 'this request touches objects outside this token\'s scope')
}
