import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { invalid } from '../errors.ts'
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
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown; setup?: unknown }
  const fn = mod.default ?? mod.setup
  if (typeof fn !== 'function') throw invalid('INVALID_ARGUMENT', `${file} must export a default setup function: export default defineSetup(async (db) => { ... })`)
  return fn as SetupFn
}
