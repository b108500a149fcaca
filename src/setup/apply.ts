import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { invalid } from '../errors.ts'
import { diffRoutes, routeSignature } from './routes.ts'
import type { DeclaredRoute, RouteSignature } from './routes.ts'
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
  /** The service routes the setup declares, when it declares any (served by `tessera serve --setup FILE`). */
  readonly routes?: readonly DeclaredRoute[]
}

export async function applySetup(setup: SetupFn | string, target: SetupTarget, options: { plan?: boolean; env?: string } = {}): Promise<ApplyResult> {
  const fn = typeof setup === 'string' ? await loadSetup(setup) : setup
  const db = new SetupDb(target, { plan: options.plan ?? false, ...(options.env ? { env: options.env } : {}) })
  await fn(db)
  const routes = db.route.routes
  const served = await servedRoutes(target)
  // Against a server (--url), route changes are what that server would start or stop serving; an embedded target
  // serves nothing, so its routes are listed as notes for `tessera serve --setup`.
  const routeLines = served ? diffRoutes(served, routes.map(routeSignature)) : diffRoutes([], routes.map(routeSignature)).map((l) => `note: ${l.replace(/^add /, '')}, served by tessera serve --setup`)
  const changes = [...db.changes, ...routeLines]
  return { changes, changed: changes.some((c) => !c.startsWith('note:')), ...(routes.length ? { routes } : {}) }
}

/** The routes a remote target (the HTTP client) serves, from its /openapi.json; undefined for an embedded target. */
async function servedRoutes(target: SetupTarget): Promise<RouteSignature[] | undefined> {
  const http = (target as { http?: { request?: (method: string, path: string) => Promise<unknown> } }).http
  if (typeof http?.request !== 'function') return undefined
  const doc = (await http.request('GET', '/openapi.json')) as { 'x-tessera-routes'?: RouteSignature[] }
  return doc['x-tessera-routes'] ?? []
}

/** The routes a setup file declares, collected without changing anything (`tessera serve --setup FILE`). */
export async function loadRoutes(setup: SetupFn | string, target: SetupTarget, options: { env?: string } = {}): Promise<{ routes: readonly DeclaredRoute[]; pending: readonly string[] }> {
  const fn = typeof setup === 'string' ? await loadSetup(setup) : setup
  const db = new SetupDb(target, { plan: true, ...(options.env ? { env: options.env } : {}) })
  await fn(db)
  return { routes: db.route.routes, pending: db.changes.filter((c) => !c.startsWith('note:')) }
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
