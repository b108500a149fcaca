import { invalid, TesseraError } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { TableState } from './state.ts'
import * as views from './views.ts'

export { isReplacingPath, REPLACING_MARK, replacingPath, underUserPath } from './replacing-path.ts'

// A replace of a table, view or snapshot (ifExists: 'replace' / 'replace_force') is one change: the old object (with
// its dependents, under 'replace_force') is dropped in the transaction that makes the new one take its path, so a
// replace that fails leaves the old object as it was. Before, the old one was dropped first, and a creation that
// failed after that (a view whose first sync fails, an iterator over a missing file) lost it too.
//
// A table or snapshot is recorded in one transaction: the drop goes into it. A view is filled by its first sync,
// which may run in staged steps (src/catalog/commit.ts) and so cannot share a transaction with the drop: the new view
// is created and synced under a temporary path (src/catalog/replacing-path.ts, which no user path can contain, so no one can open
// or take it), and one last transaction drops the old object and moves the new view to its path.

/**
 * Refuses, before anything is made, a replace that the final drop would refuse or that would drop what the new object
 * is made from: 'replace' of an object with dependents (as dropTable without force), and any replace of the new
 * object's own base or of a table it is made over (the old code dropped it, then failed to find the base).
 */
export async function assertReplaceable(db: Queryable, old: TableState, force: boolean, baseId?: number): Promise<void> {
  const deps = await views.dependentsOf(db, old.id)
  if (deps.length > 0 && !force) {
    throw views.hasDependentsError(old.path, deps, 'replace')
  }
  if (baseId === undefined) return
  if (baseId === old.id || (await dependsOn(db, baseId, old.id))) {
    throw invalid('INVALID_ARGUMENT', `'${old.path}' cannot be replaced by an object made over ${baseId === old.id ? 'itself' : 'one of its own dependents'}: the replace would drop its base`, { path: old.path })
  }
}

/** Whether table `id` is (transitively) a view or snapshot over table `of`. */
async function dependsOn(db: Queryable, id: number, of: number): Promise<boolean> {
  for (const d of await views.dependentsOf(db, of)) if (d.id === id || (await dependsOn(db, id, d.id))) return true
  return false
}
