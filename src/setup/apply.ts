import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { errorOf, invalid, TesseraError } from '../errors.ts'
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

/**
 * Plans the setup, then (unless planning) applies it. The plan runs the checks applying makes (names, types, keys,
 * expressions over the schema the setup builds, index options), so a setup with a mistake changes nothing; and what
 * exists but differs from the setup without ifExists: 'replace' (a column's type, a key, a view's where, a computed
 * column's expression, an index's embedder) fails the plan and the apply alike, each difference named (an
 * INVALID_ARGUMENT error whose details list them, with the changes the plan would otherwise make). So the setup function
 * runs twice when applied: once planning, once applying.
 */
export async function applySetup(setup: SetupFn | string, target: SetupTarget, options: { plan?: boolean; env?: string } = {}): Promise<ApplyResult> {
  const fn = typeof setup === 'string' ? await loadSetup(setup) : setup
  const file = typeof setup === 'string' ? setup : undefined
  const env = options.env ? { env: options.env } : {}
  const plan = new SetupDb(target, { plan: true, ...env })
  await runSetup(fn, plan, file)
  refuseDifferences(plan, file)
  let db = plan
  if (!options.plan) {
    db = new SetupDb(target, { plan: false, ...env })
    await runSetup(fn, db, file)
    // Only when something changed what exists between the plan and now (another deploy).
    refuseDifferences(db, file)
  }
  const routes = db.route.routes
  const served = await servedRoutes(target)
  // Against a server (--url), route changes are what that server would start or stop serving; an embedded target
  // serves nothing, so its routes are listed as notes for `tessera serve --setup`.
  const routeLines = served ? diffRoutes(served, routes.map(routeSignature)) : diffRoutes([], routes.map(routeSignature)).map((l) => `note: ${l.replace(/^add /, '')}, served by tessera serve --setup`)
  const changes = [...db.changes, ...routeLines]
  return { changes, changed: changes.some((c) => !c.startsWith('note:')), ...(routes.length ? { routes } : {}) }
}

/** Runs the setup function; an error names the line of the setup file it came from and, applying, what was already done. */
async function runSetup(fn: SetupFn, db: SetupDb, file: string | undefined): Promise<void> {
  try {
    await fn(db)
  } catch (e) {
    const at = file ? setupLine(e, file) : undefined
    const done = db.planning ? [] : db.changes
    if (!(e instanceof Error) || (!at && done.length === 0)) throw e
    const message = `${e.message}${at ? ` (at ${at})` : ''}${done.length ? `\n${done.length === 1 ? 'this change was' : 'these changes were'} made before it failed:\n${done.map((c) => `  ${c}`).join('\n')}` : ''}`
    throw e instanceof TesseraError ? errorOf(e.code, message, { ...e.details, ...(done.length ? { applied: done } : {}) }, { cause: e }) : Object.assign(e, { message })
  }
}

/** 'setup.ts:4:11': the innermost place in the setup file that the error's stack passes through. */
function setupLine(e: unknown, file: string): string | undefined {
  const stack = (e as Error | undefined)?.stack
  if (typeof stack !== 'string') return undefined
  const abs = resolve(file)
  for (const line of stack.split('\n')) {
    const i = line.indexOf(`${abs}:`)
    if (i < 0) continue
    const m = /^:(\d+):(\d+)/.exec(line.slice(i + abs.length))
    if (m) return `${file}:${m[1]}:${m[2]}`
  }
  return undefined
}

/** Fails naming each difference between what exists and the setup (that the setup does not change) and how to apply it. */
function refuseDifferences(db: SetupDb, file: string | undefined): void {
  const differences = db.differences
  if (differences.length === 0) return
  const pending = db.changes.filter((c) => !c.startsWith('note:'))
  throw invalid(
    'INVALID_ARGUMENT',
    `${file ?? 'the setup'} differs from what exists in ${differences.length === 1 ? 'a way' : `${differences.length} ways`} it does not change; nothing was changed:\n` +
      differences.map((d) => `  ${d}`).join('\n') +
      (pending.length ? `\nonce that is settled, it would also:\n${pending.map((c) => `  ${c}`).join('\n')}` : ''),
    { differences, changes: pending },
  )
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
  // Checked first: the runtime's error for a path with nothing there ("Cannot find module … imported from
  // src/setup/apply.ts") was reported as a compile error of the file, naming this module.
  const found = fileKind(file)
  if (found !== 'file') throw invalid('INVALID_ARGUMENT', found === 'folder' ? `${file} is a folder; give the TypeScript file to run` : `${file}: no such file (looked for ${resolve(file)})`, { file })
  try {
    return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>
  } catch (e) {
    const built = buildErrors(e, file)
    if (built) throw invalid('INVALID_ARGUMENT', built)
    // Deno has no way to bind a bare name at run time: it resolves 'tessera' from the file's own project only.
    if (!aliased && /['"]?tessera(\/client)?['"]? (is )?not a dependency|Cannot find (module|package) 'tessera/.test((e as Error).message)) {
      throw invalid('INVALID_ARGUMENT', `${file} imports 'tessera', which Deno cannot bind to this Tessera outside its project: run the command with Bun (npx bun bin/tessera.ts) or the binary, or import from the checkout's src/index.ts`)
    }
    throw e
  }
}

function fileKind(file: string): 'file' | 'folder' | 'missing' {
  try {
    return statSync(resolve(file)).isDirectory() ? 'folder' : 'file'
  } catch {
    return 'missing'
  }
}

/** A build position as Bun reports it (BuildMessage / ResolveMessage): line and column from 1. */
interface BuildPosition { readonly file?: string; readonly line?: number; readonly column?: number; readonly lineText?: string }

/**
 * The errors of a module that does not compile (a syntax error, an import that does not resolve), each as
 * 'setup.ts:3:53: Expected "}" but found "name"' with its line: the runtime's error says only '3 errors building …'.
 */
function buildErrors(e: unknown, file: string): string | undefined {
  const isBuild = (x: unknown): x is { message: string; position?: BuildPosition | null } =>
    typeof x === 'object' && x !== null && typeof (x as { message?: unknown }).message === 'string' && /^(Build|Resolve)Message$/.test((x as { name?: string }).name ?? '')
  const list = e instanceof AggregateError ? e.errors.filter(isBuild) : isBuild(e) ? [e] : []
  if (list.length === 0) return undefined
  const abs = resolve(file)
  const SHOWN = 5
  let shownText: string | undefined
  const lines = list.slice(0, SHOWN).map((x) => {
    const p = x.position ?? undefined
    const where = p?.file ? `${p.file === abs ? file : p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}` : file
    // The source line once, under the first error on it.
    const text = p?.lineText && p.lineText !== shownText ? `\n      ${p.lineText.trim()}` : ''
    shownText = p?.lineText ?? shownText
    return `  ${where}: ${x.message}${text}`
  })
  const more = list.length > SHOWN ? `\n  … and ${list.length - SHOWN} more` : ''
  return `${file} does not compile (${list.length} error${list.length === 1 ? '' : 's'}):\n${lines.join('\n')}${more}`
}
