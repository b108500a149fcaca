import type { AddIndexRequest, CreateTableRequest, IteratorRequest, StartJobRequest, TableApi, TesseraApi } from '../api/index.ts'
import type { ExprLike, ExprNode } from '../query/index.ts'
import { Expr, toNode, colNode, printExpr } from '../query/index.ts'
import { stripTables, resolveEnvPath } from '../catalog/index.ts'
import * as valibot from 'valibot'
import { invalid } from '../errors.ts'
import { sameJson } from './canonical.ts'
import { RouteSet } from './routes.ts'

const show = (e: ExprLike): string => printExpr(stripTables(toNode(e)))

/**
 * Whether an existing computed column is defined by `expr`. By structure, not by printed text: the stored expression
 * comes back from the catalog with its options' keys in another order (and a Date literal as its ISO text), which
 * printed differently and made every apply drop and recompute the column. A target that reports no expression tree
 * (an older server) is compared by printed text, as before.
 */
function sameExpr(current: { readonly computedWith?: string; readonly expr?: unknown }, expr: ExprLike): boolean {
  if (current.expr !== undefined) return sameJson(stripTables(current.expr as ExprNode), stripTables(toNode(expr)))
  return current.computedWith === show(expr)
}

// What a setup file sees as `db`: the catalog calls a deploy script makes, each of which first looks at what exists
// and says what it would change. With plan: true nothing is changed; otherwise the change is made. So
// `tessera apply setup.ts --plan` and a second `tessera apply setup.ts` both report exactly what is (not) done.

/**
 * The part of the API contract (src/api: TesseraApi, which the library and the HTTP client both implement) a setup
 * needs, so a setup file runs unchanged against a data dir or a server.
 */
export type SetupTarget = Pick<TesseraApi<SetupTargetTable & TableApi>, 'createDir' | 'listDirs' | 'listTables' | 'createTable' | 'getTable'> & {
  createView?(path: string, base: never, options?: { where?: ExprLike; iterator?: IteratorRequest; ifExists?: 'ignore' }): Promise<SetupTargetTable>
  /** Background jobs (index rebuilds with background: true), with the options POST /api/v1/jobs takes. */
  readonly jobs?: {
    startIndex(options: IndexJobOptions): Promise<{ id: number | string }>
    list(): Promise<readonly { id: number | string; table: string; index?: string; status: string }[]>
  }
}

/** An embedding index as the API contract describes one (POST …/-/indexes), without the column it is on. */
export type IndexOptions = Omit<AddIndexRequest, 'column'>
/** A background index build as the API contract describes one (POST /api/v1/jobs with index). */
type IndexJobOptions = Omit<StartJobRequest, 'expr' | 'index'> & NonNullable<StartJobRequest['index']>

/** An index as listIndexes() reports it (the parts a setup compares). */
interface ExistingIndex {
  readonly name: string
  readonly column?: string
  readonly metric?: string
  readonly fullText?: string
  readonly embed?: { readonly fn: string; readonly opts?: Readonly<Record<string, unknown>> }
}

/** A table as a setup sees it: the contract's TableApi, and embedding indexes where the target offers them. */
export type SetupTargetTable = Pick<TableApi, 'path' | 'schema' | 'count' | 'col' | 'addColumn' | 'addComputedColumn' | 'dropColumn' | 'listIndexes' | 'columns'> & {
  addEmbeddingIndex?(column: string, options: IndexOptions): Promise<unknown>
}

export interface SetupOptions {
  readonly plan: boolean
  readonly env?: string
}

export class SetupDb {
  readonly changes: string[] = []
  readonly #target: SetupTarget
  readonly #options: SetupOptions
  /** Declared service routes (route.insert / route.query / route.call), served by `tessera serve --setup`. */
  readonly route: RouteSet
  /** valibot, for route schemas in setup files that import nothing (the single binary resolves no packages). */
  readonly v = valibot

  constructor(target: SetupTarget, options: SetupOptions) {
    this.#target = target
    this.#options = options
    this.route = new RouteSet((p) => this.path(p))
  }

  /** The environment-qualified form of a path ('app/docs' → 'prod_app/docs' under TESSERA_ENV=prod). */
  path(path: string): string {
    return resolveEnvPath(path, this.#options.env)
  }

  get planning(): boolean {
    return this.#options.plan
  }

  get target(): SetupTarget {
    return this.#target
  }

  async #exists(path: string, kind: 'dir' | 'table'): Promise<boolean> {
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
    try {
      const list = kind === 'dir' ? await this.#target.listDirs(parent) : await this.#target.listTables(parent)
      return list.includes(path)
    } catch {
      return false // the parent itself does not exist yet
    }
  }

  async createDir(path: string, options: { parents?: boolean } = {}): Promise<void> {
    const p = this.path(path)
    if (await this.#exists(p, 'dir')) return
    this.changes.push(`create dir ${p}`)
    if (!this.planning) await this.#target.createDir(p, { ifExists: 'ignore', parents: options.parents ?? true })
  }

  /** Creates the table if it does not exist; an existing table is kept as it is (its differences are reported). */
  async createTable(path: string, schema: Record<string, string>, options: Pick<CreateTableRequest, 'primaryKey' | 'comment' | 'mediaValidation'> = {}): Promise<SetupTable> {
    const p = this.path(path)
    if (await this.#exists(p, 'table')) {
      const t = await this.#target.getTable(p)
      const have = t.schema()
      for (const [name, type] of Object.entries(schema)) {
        if (!(name in have)) this.changes.push(`note: ${p} has no column '${name}' (${type}); add it with addColumn`)
        else if (have[name] !== type && have[name] !== `${type}?`) this.changes.push(`note: ${p}.${name} is ${have[name]}, setup says ${type}`)
      }
      return new SetupTable(this, t, p)
    }
    this.changes.push(`create table ${p} (${Object.entries(schema).map(([n, t]) => `${n} ${t}`).join(', ')})`)
    if (this.planning) return new SetupTable(this, undefined, p, schema, options.primaryKey === undefined ? [] : [options.primaryKey].flat())
    return new SetupTable(this, await this.#target.createTable(p, schema, { ...options, ifExists: 'ignore' }), p)
  }

  async createView(path: string, base: SetupTable, options: { where?: ExprLike; iterator?: IteratorRequest } = {}): Promise<SetupTable> {
    const p = this.path(path)
    if (await this.#exists(p, 'table')) return new SetupTable(this, await this.#target.getTable(p), p)
    this.changes.push(`create view ${p} over ${base.path}${options.where !== undefined ? ` where ${show(options.where)}` : ''}${options.iterator ? ` iterating ${JSON.stringify(options.iterator)}` : ''}`)
    if (this.planning || !base.target) return new SetupTable(this, undefined, p, base.schema())
    if (!this.#target.createView) throw new Error('this target cannot create views')
    return new SetupTable(this, await this.#target.createView(p, base.target as never, { ...options, ifExists: 'ignore' }), p)
  }

  async getTable(path: string): Promise<SetupTable> {
    const p = this.path(path)
    return new SetupTable(this, await this.#target.getTable(p), p)
  }
}

/** A table in a setup: schema changes are checked, described, and made unless planning. */
export class SetupTable {
  readonly #db: SetupDb
  readonly #planned: Record<string, string>
  readonly target: SetupTargetTable | undefined
  readonly path: string

  readonly #plannedKey: readonly string[] | undefined

  constructor(db: SetupDb, target: SetupTargetTable | undefined, path: string, plannedSchema: Record<string, string> = {}, plannedKey?: readonly string[]) {
    this.#db = db
    this.target = target
    this.path = path
    this.#planned = { ...plannedSchema }
    this.#plannedKey = plannedKey
  }

  /** The primary key's columns: the table's, or the one a plan would create it with; undefined when not known. */
  primaryKey(): readonly string[] | undefined {
    const columns = this.target?.columns?.()
    return columns ? columns.filter((c) => c.primaryKey).map((c) => c.name) : this.#plannedKey
  }

  schema(): Record<string, string> {
    return { ...(this.target?.schema() ?? {}), ...this.#planned }
  }

  get c(): Record<string, Expr> {
    return new Proxy({} as Record<string, Expr>, { get: (_t, name) => (typeof name === 'string' ? this.col(name) : undefined) })
  }

  col(name: string): Expr {
    return this.target && name in this.target.schema() ? this.target.col(name) : new Expr(colNode(name))
  }

  async #rows(): Promise<number> {
    return this.target ? this.target.count() : 0
  }

  async addColumn(name: string, type: string): Promise<void> {
    if (name in this.schema()) return
    this.#planned[name] = type
    this.#db.changes.push(`add column ${this.path}.${name} ${type}`)
    if (!this.#db.planning && this.target) await this.target.addColumn(name, type, { ifExists: 'ignore' })
  }

  /** ifExists 'replace' recomputes when the expression (or onError) changed; the default keeps an existing column. */
  async addComputedColumn(name: string, expr: ExprLike, options: { onError?: 'abort' | 'ignore'; ifExists?: 'ignore' | 'replace' } = {}): Promise<void> {
    // Refused before anything is compared: an existing column would otherwise hide the mistake until the next deploy.
    if (expr === undefined) throw invalid('INVALID_EXPRESSION', `addComputedColumn('${name}') on ${this.path}: the expression is undefined (a property that does not exist, such as t.c.j['k'] where t.c.j.get('k') was meant?)`, { column: name })
    const exists = name in this.schema()
    if (exists && options.ifExists !== 'replace') return
    const current = this.target?.columns?.().find((c) => c.name === name)
    if (current && sameExpr(current, expr) && (current.onError ?? 'abort') === (options.onError ?? 'abort')) return
    const rows = await this.#rows()
    this.#planned[name] = 'computed'
    this.#db.changes.push(`${exists ? 'replace' : 'add'} computed column ${this.path}.${name} = ${show(expr)}${rows ? ` (backfill of ${rows} rows)` : ''}`)
    if (!this.#db.planning && this.target) await this.target.addComputedColumn(name, expr, { ...(options.onError ? { onError: options.onError } : {}), ifExists: exists ? 'replace' : 'ignore' })
  }

  /**
   * Adds the index unless one of that name (or, unnamed, on that column) exists. With ifExists 'replace', an existing
   * index built differently (another embedder, its options, metric or full-text configuration) is rebuilt, in the
   * background with background: true (the old index serves until the new one is complete); an identical one is kept.
   */
  async addEmbeddingIndex(column: string, options: Omit<IndexOptions, 'ifExists'> & { ifExists?: 'ignore' | 'replace'; background?: boolean } = {}): Promise<void> {
    const existing: readonly ExistingIndex[] = this.target ? this.target.listIndexes() : []
    const { ifExists, background, ...indexOptions } = options
    const name = options.name
    const found = existing.find((i) => (name ? i.name === name : i.column === column))
    if (found && (ifExists !== 'replace' || sameIndex(found, indexOptions))) return
    // A background rebuild a previous apply started is still under way (or waits for `tessera serve` to resume it).
    const jobs = found && background ? (await this.#db.target.jobs?.list()) ?? [] : []
    if (jobs.some((j) => j.table === this.path && j.index === found!.name && (j.status === 'running' || j.status === 'interrupted'))) return
    const rows = await this.#rows()
    const what = `embedding index on ${this.path}.${column}${name ? ` (${name})` : ''}`
    if (found) {
      this.#db.changes.push(`replace ${what}: ${describe(found.embed)} → ${describe(indexOptions.embed)}${rows ? `, re-embed ${rows} rows` : ''}${background ? ' in the background' : ''}`)
    } else {
      this.#db.changes.push(`add ${what}${rows ? `: embed and index ${rows} rows` : ''}`)
    }
    if (this.#db.planning || !this.target?.addEmbeddingIndex) return
    if (found && background) {
      if (!this.#db.target.jobs) throw new Error(`background: true needs a target with jobs (db.jobs.startIndex)`)
      const { embed, name: _name, ...rest } = indexOptions
      // A job builds vectors with an embedder; a column of vectors is indexed in place, without a job.
      if (!embed) throw invalid('INVALID_ARGUMENT', `${what}: background: true rebuilds with an embedder; give embed, or leave background out`)
      const job = await this.#db.target.jobs.startIndex({ ...rest, embed, table: this.path, column, name: found.name, ifExists: 'replace' })
      // An embedded apply exits before the job ends: `tessera serve` resumes it (with --url the server runs it).
      this.#db.changes[this.#db.changes.length - 1] += ` (job ${job.id})`
      return
    }
    await this.target.addEmbeddingIndex(column, { ...indexOptions, ...(found ? { name: found.name } : {}), ifExists: found ? 'replace' : 'ignore' })
  }

  async dropColumn(name: string): Promise<void> {
    if (!(name in this.schema())) return
    this.#db.changes.push(`drop column ${this.path}.${name}`)
    if (!this.#db.planning && this.target) await this.target.dropColumn(name, { ifNotExists: 'ignore' })
  }
}

const describe = (embed: ExistingIndex['embed'] | undefined): string => (embed ? `${embed.fn}(${JSON.stringify(embed.opts ?? {})})` : '(no embedder)')

/** Whether an existing index is what the setup asks for; options the setup leaves out (dims, say) match anything. */
function sameIndex(found: ExistingIndex, wanted: IndexOptions): boolean {
  const embed = wanted.embed
  if (!embed || embed.fn !== found.embed?.fn) return false
  // By content: an option that is an object comes back from the catalog with its keys in another order.
  for (const [k, v] of Object.entries(embed.opts ?? {})) if (!sameJson(found.embed?.opts?.[k], v)) return false
  if ((wanted.metric ?? 'cosine') !== (found.metric ?? 'cosine')) return false
  if (wanted.fullText !== undefined && (wanted.fullText || undefined) !== found.fullText) return false
  return true
}
