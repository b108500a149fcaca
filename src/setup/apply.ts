import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { invalid } from '../errors.ts'
import { aliasModules } from '../runtime/index.ts'
import type { SetupTarget } from './setup-db.ts'
import { SetupDb } from './setup-db.ts'

// `tessera apply setup.ts`: a setup module, kept in git like a migration, run at every deploy.
//   export default defineSetup(async (db) => { await db.createDir('app'); ... })

export type SetupFn = (db: SetupDb) => Promise<void>

export function defineSetup(fn: SetupFn): SetupFn {
  return fn
}

export interface ApplyResult {
  readonly changes: readonly string[]
  /** False when the data already matched the setup (nothing was, or would be, changed). */
  readonly changed: boolean
}

export async function applySetup(setup: SetupFn | string, target: SetupTarget, options: { plan?: boolean; env?: string } = {}): Promise<ApplyResult> {
  const fn = typeof setup === 'string' ? await loadSetup(setup) : setup
  const db = new SetupDb(target, { plan: options.plan ?? false, ...(options.env ? { env: options.env } : {}) })
  await fn(db)
  return { changes: db.changes, changed: db.changes.some((c) => !c.startsWith('note:')) }
}

async function loadSetup(file: string): Promise<SetupFn> {
  const mod = (await importUserModule(file)) as { default?: unknown; setup?: unknown }
  const fn = mod.default ?? mod.setup
  if (typeof fn !== 'function') throw invalid('INVALID_ARGUMENT', `${file} must export a default setup function: export default defineSetup(async (db) => { ... })`)
  return fn as SetupFn
}

/**
 * Imports a user's module (a setup file, a batch job) with 'tessera' and 'tessera/client' bound to the running
 * Tessera, from any folder and inside the binary, never looked up on disk or in a registry.
 */
export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  // Loaded lazily: src/index.ts re-exports this module.
  const aliased = await aliasModules({ tessera: () => import('../index.ts'), 'tessera/client': () => import('../client/index.ts') })
  try {
    return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>
  } catch (e) {
    // Deno has no way to bind a bare name at run time: it resolves 'tessera' from the file's own project only.
    if (!aliased && /['"]?tessera(\/client)?['"]? (is )?not a dependency|Cannot find (module|package) 'tessera/.test((e as Error).message)) {
      throw invalid('INVALID_ARGUMENT', `${file} imports 'tessera', which Deno cannot bind to this Tessera outside its project: run the command with Bun (npx bun bin/tessera.ts) or the binary, or import from the checkout's src/index.ts`)
    }
    throw e
  }
}
