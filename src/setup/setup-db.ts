import type { AddIndexRequest, CreateTableRequest, IteratorRequest, StartJobRequest, TableApi, TesseraApi } from '../api/index.ts'
import type { ColNode, ColumnBinding, ExprLike, ExprNode, Scope } from '../query/index.ts'
import { Expr, toNode, colNode, containsAggregate, exprText, printExpr, typeOf } from '../query/index.ts'
import { stripTables, resolveEnvPath } from '../catalog/index.ts'
import { checkEmbeddingIndex } from '../index/index.ts'
import { checkName, formatType, isMedia, parsePath, parseType } from '../types/index.ts'
import * as valibot from 'valibot'
import { invalid, notFound } from '../errors.ts'
import { sameJson } from './canonical.ts'
import { RouteSet } from './routes.ts'

// Whole: compared with a column's computedWith (exprText) where a target reports no expression tree.
const show = (e: ExprLike | ExprNode): string => exprText(stripTables(toNode(e as ExprLike)))

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

/**
 * Whether a column of type `have` is what a setup declaring `want` asks for: the same type, or its nullable form
 * (computed columns and columns added to a table with rows are nullable). A type that does not parse is refused
 * (by the checks) before this is asked.
 */
function sameType(have: string, want: string): boolean {
  try {
    const [h, w] = [formatType(parseType(have)), parseType(want)]
    return h === formatType(w) || h === formatType({ ...w, nullable: true })
  } catch {
    return have === want
  }
}

// What a setup file sees as `db`: the catalog calls a deploy script makes, each of which first looks at what exists
// and says what it would change. With plan: true nothing is changed; otherwise the change is made. So
// `tessera apply setup.ts --plan` and a second `tessera apply setup.ts` both report exactly what is (not) done.
//
// Planning checks what applying would check (names, types, keys, expressions typed against the schema the setup
// builds, index options), so a plan that passes does not fail half-way when applied; `applySetup` runs the plan first
// and applies only a setup that passed it. A definition that exists but differs from the setup's (a column's type, a
// table's key, a view's where, a computed column's expression, an index's embedder) is a difference: the setup
// changes it only with ifExists: 'replace'; otherwise it is listed, and the plan and the apply fail naming it.

/**
 * The part of the API contract (src/api: TesseraApi, which the library and the HTTP client both implement) a setup
 * needs, so a setup file runs unchanged against a data dir or a server.
 */
export type SetupTarget = Pick<TesseraApi<SetupTargetTable & TableApi>, 'createDir' | 'listDirs' | 'listTables' | 'createTable' | 'getTable'> & {
  createView?(path: string, base: never, options?: { where?: ExprLike; iterator?: IteratorRequest; ifExists?: 'ignore' | 'replace' }): Promise<SetupTargetTable>
  /** Background jobs (index rebuilds with background: true), with the options POST /api/v1/jobs takes. */
  readonly jobs?: {
    startIndex(options: IndexJobOptions): Promise<{ id: number | string }>
    list(): Promise<readonly PendingJob[]>
    cancel(id: number | string, options: { dropColumn?: boolean }): Promise<unknown>
  }
}

/** An embedding index as the API contract describes one (POST …/-/indexes), without the column it is on. */
export type IndexOptions = Omit<AddIndexRequest, 'column'>
/** A background index build as the API contract describes one (POST /api/v1/jobs with index). */
type IndexJobOptions = Omit<StartJobRequest, 'expr' | 'index'> & NonNullable<StartJobRequest['index']>

/** A background job as jobs.list() reports it; an index job says what it builds (an older server does not). */
interface PendingJob {
  readonly id: number | string
  readonly table: string
  readonly index?: string
  readonly status: string
  readonly builds?: Omit<ExistingIndex, 'name' | 'column'>
}

/** An index as listIndexes() reports it (the parts a setup compares). */
interface ExistingIndex {
  readonly name: string
  readonly column?: string
  readonly metric?: string
  readonly fullText?: string
  readonly embed?: { readonly fn: string; readonly opts?: Readonly<Record<string, unknown>>; readonly modality?: string }
}

/** A table as a setup sees it: the contract's TableApi, and embedding indexes where the target offers them. */
export type SetupTargetTable = Pick<TableApi, 'path' | 'schema' | 'count' | 'col' | 'addColumn' | 'addComputedColumn' | 'dropColumn' | 'listIndexes' | 'columns'> & {
  addEmbeddingIndex?(column: string, options: IndexOptions): Promise<unknown>
}

/**
 * A view's definition where the target hands it out (the library's tables carry their metadata; the HTTP API does
 * not describe a view's where yet, so over --url an existing view is not compared).
 */
interface ViewDefinition {
  readonly id?: number
  readonly md?: { readonly view?: { readonly baseId: number; readonly where?: ExprNode; readonly iterator?: { readonly name: string; readonly input: string; readonly args?: Readonly<Record<string, unknown>> } } }
}

export interface SetupOptions {
  readonly plan: boolean
  readonly env?: string
}

/** A difference between what exists and what the setup declares, which the setup does not change. */
interface Difference {
  readonly text: string
  /** Asked once the setup has run: false when a later call of the setup made it go away (addColumn after createTable). */
  readonly stands?: () => boolean
}

type CreateTableOptions = Pick<CreateTableRequest, 'primaryKey' | 'comment' | 'mediaValidation'> & {
  /** 'replace': an existing table whose columns or key differ from the setup's is dropped (with its rows) and created again. */
  ifExists?: 'ignore' | 'replace'
}

export class SetupDb {
  readonly changes: string[] = []
  readonly #differences: Difference[] = []
  readonly #target: SetupTarget
  readonly #options: SetupOptions
  /** The tables this setup created or looked at, by path: a table it would create is found by getTable while planning. */
  readonly #tables = new Map<string, SetupTable>()
  /** Dirs this plan would create. */
  readonly #plannedDirs = new Set<string>()
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

  /**
   * What exists but differs from the setup and is not changed by it (no ifExists: 'replace'), each naming the table
   * or column, what exists, what the setup says and how to apply it. Read once the setup has run.
   */
  get differences(): string[] {
    return this.#differences.filter((d) => d.stands?.() ?? true).map((d) => d.text)
  }

  /**
   * @internal Makes the change whose line was pushed just before: a call that fails made no change (each is one
   * catalog change), so its line goes, and a failed apply does not list it among the changes it made.
   */
  async applying<T>(op: () => Promise<T>): Promise<T> {
    const at = this.changes.length - 1
    try {
      return await op()
    } catch (e) {
      this.changes.splice(at, 1)
      throw e
    }
  }

  /** @internal A difference the setup does not change (SetupTable reports its own). */
  differ(text: string, stands?: () => boolean): void {
    this.#differences.push(stands ? { text, stands } : { text })
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

  /** The path, checked as the catalog checks it (so a plan refuses what applying would refuse). */
  #checkedPath(path: string): string {
    return parsePath(this.path(path)).path
  }

  /** Refuses a table path whose dir neither exists nor is created by this setup (as creating it would). */
  async #checkParent(p: string): Promise<void> {
    if (!this.planning || !p.includes('/')) return
    const parent = p.slice(0, p.lastIndexOf('/'))
    if (this.#plannedDirs.has(parent) || (await this.#exists(parent, 'dir'))) return
    throw notFound('DIR_NOT_FOUND', `directory '${parent}' does not exist (create it first: db.createDir('${parent}'))`, { path: parent })
  }

  async createDir(path: string, options: { parents?: boolean } = {}): Promise<void> {
    const p = this.#checkedPath(path)
    if (this.#plannedDirs.has(p) || (await this.#exists(p, 'dir'))) return
    if (options.parents === false) await this.#checkParent(p)
    for (let d = p; d; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') this.#plannedDirs.add(d)
    this.changes.push(`create dir ${p}`)
    if (!this.planning) await this.applying(() => this.#target.createDir(p, { ifExists: 'ignore', parents: options.parents ?? true }))
  }

  /**
   * Creates the table if it does not exist. An existing table is kept as it is; where its columns' types or its key
   * differ from the setup's, that is a difference (ifExists: 'replace' drops and recreates it instead, rows and all).
   */
  async createTable(path: string, schema: Record<string, string>, options: CreateTableOptions = {}): Promise<SetupTable> {
    const p = this.#checkedPath(path)
    const { ifExists, ...createOptions } = options
    const key = checkTableDefinition(p, schema, createOptions.primaryKey)
    const described = `(${Object.entries(schema).map(([n, t]) => `${n} ${t}`).join(', ')})`
    if (await this.#exists(p, 'table')) {
      const t = await this.#target.getTable(p)
      const have = t.schema()
      const haveKey = (t.columns?.() ?? []).filter((c) => c.primaryKey).map((c) => c.name)
      const types = Object.entries(schema).filter(([name, type]) => name in have && !sameType(have[name]!, type))
      const missing = Object.entries(schema).filter(([name]) => !(name in have))
      const keyDiffers = !sameJson(haveKey, key)
      const what = [
        ...types.map(([name, type]) => `column ${name} is ${have[name]}, the setup says ${type}`),
        ...(keyDiffers ? [`its primary key is ${haveKey.length ? haveKey.join(', ') : '(none)'}, the setup says ${key.length ? key.join(', ') : '(none)'}`] : []),
      ]
      if (ifExists === 'replace' && (what.length > 0 || missing.length > 0)) {
        await this.#refuseDependents(p, t as unknown as ViewDefinition, 'table')
        const rows = await t.count()
        const whatAll = [...what, ...missing.map(([name, type]) => `it has no column ${name} (${type})`)]
        this.changes.push(`replace table ${p} ${described}${key.length ? ` key ${key.join(', ')}` : ''}${rows ? `, dropping its ${rows} rows` : ''}: ${whatAll.join('; ')}`)
        if (this.planning) return this.#table(new SetupTable(this, undefined, p, schema, key))
        return this.#table(new SetupTable(this, await this.applying(() => this.#target.createTable(p, schema, { ...createOptions, ifExists: 'replace' })), p))
      }
      const table = this.#table(new SetupTable(this, t, p))
      for (const w of what) this.differ(`table ${p}: ${w}; to apply it, pass ifExists: 'replace' to createTable('${path}') (drops and recreates the table, losing its rows), or change the setup to match`)
      for (const [name, type] of missing) {
        // A later addColumn of the setup may add it: only what is still missing once the setup has run is reported.
        this.differ(`table ${p} has no column ${name} (${type}), which the setup's createTable lists; add it with addColumn('${name}', '${type}')`, () => !(name in table.schema()))
      }
      return table
    }
    await this.#checkParent(p)
    this.changes.push(`create table ${p} ${described}`)
    if (this.planning) return this.#table(new SetupTable(this, undefined, p, schema, key))
    return this.#table(new SetupTable(this, await this.applying(() => this.#target.createTable(p, schema, { ...createOptions, ifExists: 'ignore' })), p))
  }

  /**
   * Replacing a table or view drops it, which the catalog refuses while views or snapshots are over it: found while
   * planning, so the apply changes nothing, where it used to fail half-way (after the setup's earlier changes were
   * made). Known where the target describes its tables (the library); over --url the replace itself still refuses it.
   */
  async #refuseDependents(path: string, table: ViewDefinition, kind: 'table' | 'view'): Promise<void> {
    if (typeof table.id !== 'number') return
    const dependents: string[] = []
    for (const other of await this.#target.listTables('', { recursive: true })) {
      if (other === path) continue
      const md = await this.#target.getTable(other).then((o) => (o as unknown as { md?: { view?: { baseId: number }; snapshot?: { baseId: number } } }).md, () => undefined)
      if (md?.view?.baseId === table.id || md?.snapshot?.baseId === table.id) dependents.push(other)
    }
    if (dependents.length === 0) return
    const names = dependents.map((d) => `'${d}'`).join(', ')
    throw invalid('HAS_DEPENDENTS', `${kind} ${path}: ifExists 'replace' would drop and recreate it, but ${names} ${dependents.length === 1 ? 'is a view or snapshot' : 'are views or snapshots'} over it; drop ${dependents.length === 1 ? 'it' : 'them'} first (tessera drop PATH; the setup's createView makes a view again), or change the setup to match the ${kind}`, { table: path, dependents })
  }

  /**
   * Creates the view if it does not exist. An existing view over another base, or with another where or iterator,
   * is a difference (ifExists: 'replace' recreates it; its rows come from the base again).
   */
  async createView(path: string, base: SetupTable, options: { where?: ExprLike; iterator?: IteratorRequest; ifExists?: 'ignore' | 'replace' } = {}): Promise<SetupTable> {
    const p = this.#checkedPath(path)
    const { ifExists, ...viewOptions } = options
    if (!(base instanceof SetupTable)) throw invalid('INVALID_ARGUMENT', `createView('${path}'): the base must be a table of this setup (db.createTable or db.getTable)`)
    if (viewOptions.where !== undefined) {
      if (viewOptions.where === null) throw invalid('INVALID_EXPRESSION', `createView('${path}'): where is null`)
      const t = base.typeOf(viewOptions.where, `the where of view '${p}'`)
      if (t && t.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `a view's where must be boolean, got ${formatType(t)} from ${show(viewOptions.where)}`)
    }
    if (viewOptions.iterator && !base.has(viewOptions.iterator.input)) {
      throw notFound('COLUMN_NOT_FOUND', `the iterator of view '${p}' reads column '${viewOptions.iterator.input}', which '${base.path}' does not have; columns are: ${Object.keys(base.schema()).join(', ')}`, { column: viewOptions.iterator.input })
    }
    const described = `view ${p} over ${base.path}${viewOptions.where !== undefined ? ` where ${show(viewOptions.where)}` : ''}${viewOptions.iterator ? ` iterating ${JSON.stringify(viewOptions.iterator)}` : ''}`
    // A view's columns are its base's (and, with an iterator, the iterator's: not known until it exists).
    const planned = () => this.#table(new SetupTable(this, undefined, p, base.schema(), [], { open: !!viewOptions.iterator || base.open }))
    if (await this.#exists(p, 'table')) {
      const t = await this.#target.getTable(p)
      const what = viewDifferences(t as unknown as ViewDefinition, base, viewOptions)
      if (what.length > 0 && ifExists === 'replace') {
        await this.#refuseDependents(p, t as unknown as ViewDefinition, 'view')
        this.changes.push(`replace ${described}: ${what.join('; ')}`)
        if (this.planning || !base.target) return planned()
        return this.#table(new SetupTable(this, await this.applying(() => this.#createView(p, base, viewOptions, 'replace')), p))
      }
      for (const w of what) this.differ(`view ${p}: ${w}; to apply it, pass ifExists: 'replace' to createView('${path}') (recreates the view from its base)`)
      return this.#table(new SetupTable(this, t, p))
    }
    await this.#checkParent(p)
    this.changes.push(`create ${described}`)
    if (this.planning || !base.target) return planned()
    return this.#table(new SetupTable(this, await this.applying(() => this.#createView(p, base, viewOptions, 'ignore')), p))
  }

  #createView(p: string, base: SetupTable, options: { where?: ExprLike; iterator?: IteratorRequest }, ifExists: 'ignore' | 'replace'): Promise<SetupTargetTable> {
    if (!this.#target.createView) throw new Error('this target cannot create views')
    return this.#target.createView(p, base.target as never, { ...options, ifExists })
  }

  async getTable(path: string): Promise<SetupTable> {
    const p = this.#checkedPath(path)
    // A table this plan would create (or replace) is the planned one: the target has not got it (yet).
    const known = this.#tables.get(p)
    if (known && !known.target) return known
    return this.#table(new SetupTable(this, await this.#target.getTable(p), p))
  }

  #table(t: SetupTable): SetupTable {
    this.#tables.set(t.path, t)
    return t
  }
}

/** The catalog's checks of a new table's definition (names, types, key), made before anything is created. */
function checkTableDefinition(p: string, schema: Record<string, string>, primaryKey: string | readonly string[] | undefined): string[] {
  if (schema === null || typeof schema !== 'object') throw invalid('INVALID_ARGUMENT', `createTable('${p}'): the schema must be an object of column types, such as { id: 'int', text: 'string' }`)
  const entries = Object.entries(schema)
  if (entries.length === 0) throw invalid('INVALID_ARGUMENT', `table '${p}' needs at least one column`)
  for (const [name, type] of entries) {
    checkName(name, 'column name')
    if (typeof type !== 'string') throw invalid('INVALID_TYPE', `column '${name}' of '${p}': the type must be a string such as 'int' or 'string?', got ${JSON.stringify(type)}`, { column: name })
    parseType(type)
  }
  const key = primaryKey === undefined ? [] : typeof primaryKey === 'string' ? [primaryKey] : [...primaryKey]
  for (const n of key) {
    if (!(n in schema)) throw invalid('INVALID_ARGUMENT', `primary key column '${n}' is not in the schema of '${p}'`, { column: n })
    const t = parseType(schema[n]!)
    if (t.nullable) throw invalid('INVALID_ARGUMENT', `primary key column '${n}' cannot be nullable ('${schema[n]}')`, { column: n })
    if (['json', 'array', 'binary'].includes(t.kind) || isMedia(t)) throw invalid('INVALID_ARGUMENT', `primary key column '${n}' has type ${schema[n]}, which cannot be a key`, { column: n })
  }
  return key
}

/** How an existing view differs from the setup's definition; nothing when the target does not describe its views. */
function viewDifferences(existing: ViewDefinition, base: SetupTable, options: { where?: ExprLike; iterator?: IteratorRequest }): string[] {
  const view = existing.md?.view
  if (!existing.md) return []
  if (!view) return ['it exists, but is not a view']
  const out: string[] = []
  const baseId = (base.target as unknown as ViewDefinition | undefined)?.id
  if (typeof baseId === 'number' && baseId !== view.baseId) out.push(`its base is another table, the setup says ${base.path}`)
  const where = options.where === undefined ? undefined : stripTables(toNode(options.where))
  const have = view.where === undefined ? undefined : stripTables(view.where)
  if (!sameJson(have ?? null, where ?? null)) out.push(`its where is ${have ? printExpr(have) : '(none)'}, the setup says ${where ? printExpr(where) : '(none)'}`)
  const it = (i: { name: string; input: string; args?: unknown } | undefined) => (i ? { name: i.name, input: i.input, args: i.args ?? {} } : null)
  if (!sameJson(it(view.iterator), it(options.iterator as never))) out.push(`its iterator is ${JSON.stringify(it(view.iterator))}, the setup says ${JSON.stringify(it(options.iterator as never))}`)
  return out
}

/** A column the setup cannot type while planning (a column of a view's iterator, known once the view exists). */
const UNKNOWN = Symbol('unknown column')

/** A table in a setup: schema changes are checked, described, and made unless planning. */
export class SetupTable {
  readonly #db: SetupDb
  readonly #planned: Record<string, string>
  readonly target: SetupTargetTable | undefined
  readonly path: string
  /** Its columns are not all known (a planned view with an iterator): names the setup gives it are not refused. */
  readonly open: boolean

  readonly #plannedKey: readonly string[] | undefined
  /** Computed columns this setup adds or replaces, by name: what they will read once applied. */
  readonly #plannedExprs = new Map<string, ExprNode>()
  /** Columns this setup drops (the target still lists them while planning). */
  readonly #dropped = new Set<string>()

  constructor(db: SetupDb, target: SetupTargetTable | undefined, path: string, plannedSchema: Record<string, string> = {}, plannedKey?: readonly string[], options: { open?: boolean } = {}) {
    this.#db = db
    this.target = target
    this.path = path
    this.#planned = { ...plannedSchema }
    this.#plannedKey = plannedKey
    this.open = options.open ?? false
  }

  /** The primary key's columns: the table's, or the one a plan would create it with; undefined when not known. */
  primaryKey(): readonly string[] | undefined {
    const columns = this.target?.columns?.()
    return columns ? columns.filter((c) => c.primaryKey).map((c) => c.name) : this.#plannedKey
  }

  schema(): Record<string, string> {
    return { ...(this.target?.schema() ?? {}), ...this.#planned }
  }

  /** Whether it has (or, planned, would have) a column of that name; an open table may have any. */
  has(name: string): boolean {
    return name in this.schema() || this.open
  }

  get c(): Record<string, Expr> {
    return new Proxy({} as Record<string, Expr>, { get: (_t, name) => (typeof name === 'string' ? this.col(name) : undefined) })
  }

  col(name: string): Expr {
    return this.target && name in this.target.schema() ? this.target.col(name) : new Expr(colNode(name))
  }

  /**
   * The type of `expr` over this table's columns (those the setup would have made included), checked as adding it
   * checks it: unknown columns, functions and arguments are refused. Undefined when it reads a column the plan
   * cannot know yet (an open table's).
   */
  typeOf(expr: ExprLike, where: string): ReturnType<typeof typeOf> | undefined {
    const node = stripTables(toNode(expr))
    const schema = this.schema()
    const scope: Scope = {
      resolve: (n: ColNode): ColumnBinding => {
        const type = schema[n.col]
        if (type === undefined || type === '') {
          if (this.open || type === '') throw UNKNOWN
          throw notFound('COLUMN_NOT_FOUND', `unknown column '${n.col}' in ${where} (${printExpr(node)}); '${this.path}' has columns ${Object.keys(schema).join(', ') || '(none)'}`, { column: n.col, table: this.path })
        }
        return { sql: n.col, type: parseType(type), key: n.col }
      },
    }
    try {
      return typeOf(node, scope)
    } catch (e) {
      if (e === UNKNOWN) return undefined
      throw e
    }
  }

  async #rows(): Promise<number> {
    return this.target ? this.target.count() : 0
  }

  async addColumn(name: string, type: string): Promise<void> {
    checkName(name, 'column name')
    if (typeof type !== 'string') throw invalid('INVALID_TYPE', `addColumn('${name}') on ${this.path}: the type must be a string such as 'int' or 'string?'`, { column: name })
    const t = parseType(type)
    const have = this.schema()[name]
    if (have !== undefined) {
      if (have !== '' && !sameType(have, type)) this.#db.differ(`column ${this.path}.${name} is ${have}, the setup's addColumn says ${type}; a setup does not change a column's type: drop it first (dropColumn('${name}'), losing its values) or change the setup to match`)
      return
    }
    // As the catalog refuses it: existing rows would have no value for it.
    if (!t.nullable && (await this.#rows()) > 0) throw invalid('INVALID_TYPE', `column '${name}' of type ${formatType(t)} cannot be added to '${this.path}', which has rows; make it nullable ('${formatType(t)}?')`, { column: name })
    this.#planned[name] = type
    this.#db.changes.push(`add column ${this.path}.${name} ${type}`)
    const target = this.target
    if (!this.#db.planning && target) await this.#db.applying(() => target.addColumn(name, type, { ifExists: 'ignore' }))
  }

  /** ifExists 'replace' recomputes when the expression (or onError) changed; the default keeps an existing column. */
  async addComputedColumn(name: string, expr: ExprLike, options: { onError?: 'abort' | 'ignore'; ifExists?: 'ignore' | 'replace' } = {}): Promise<void> {
    // Refused before anything is compared: an existing column would otherwise hide the mistake until the next deploy.
    if (expr === undefined) throw invalid('INVALID_EXPRESSION', `addComputedColumn('${name}') on ${this.path}: the expression is undefined (a property that does not exist, such as t.c.j['k'] where t.c.j.get('k') was meant?)`, { column: name })
    checkName(name, 'column name')
    const exists = name in this.schema()
    // Typed over the columns it may read (not itself: a replaced column reads what it will replace, refused as a cycle).
    const type = this.#typeOfComputed(name, expr)
    const current = this.target?.columns?.().find((c) => c.name === name)
    const same = current !== undefined && sameExpr(current, expr) && (current.onError ?? 'abort') === (options.onError ?? 'abort')
    if (exists && options.ifExists !== 'replace') {
      if (current && !same) {
        const was = current.expr !== undefined || current.computedWith !== undefined ? `computed as ${current.computedWith ?? show(current.expr as ExprNode)}${current.onError === 'ignore' ? ' (onError ignore)' : ''}` : `a stored column (${current.type})`
        this.#db.differ(`column ${this.path}.${name} is ${was}, the setup says ${show(expr)}${options.onError === 'ignore' ? ' (onError ignore)' : ''}; to apply it, pass ifExists: 'replace' to addComputedColumn('${name}') (recomputes every row)`)
      }
      return
    }
    if (same) return
    if (exists) {
      // As the catalog refuses the replace (it would not recompute what reads the column): before anything is changed.
      const { columns, indexes } = this.#readersOf(name)
      const readers = [...columns.map((c) => `computed column '${c}'`), ...indexes.map((i) => `embedding index '${i}'`)]
      if (readers.length > 0) {
        throw invalid('HAS_DEPENDENTS', `addComputedColumn('${name}') on ${this.path} with ifExists 'replace': ${readers.join(', ')} ${readers.length === 1 ? 'reads' : 'read'} the column, and a replace does not recompute ${readers.length === 1 ? 'it' : 'them'}; drop ${readers.length === 1 ? 'it' : 'them'} first, or leave the column as it is`, { table: this.path, column: name, dependents: [...columns, ...indexes] })
      }
    }
    const rows = await this.#rows()
    this.#planned[name] = type === undefined ? '' : formatType({ ...type, nullable: true })
    this.#plannedExprs.set(name, stripTables(toNode(expr)))
    this.#dropped.delete(name)
    this.#db.changes.push(`${exists ? 'replace' : 'add'} computed column ${this.path}.${name} = ${show(expr)}${rows ? ` (backfill of ${rows} rows)` : ''}`)
    const target = this.target
    if (!this.#db.planning && target) await this.#db.applying(() => target.addComputedColumn(name, expr, { ...(options.onError ? { onError: options.onError } : {}), ifExists: exists ? 'replace' : 'ignore' }))
  }

  #typeOfComputed(name: string, expr: ExprLike): ReturnType<typeof typeOf> | undefined {
    const node = stripTables(toNode(expr))
    if (containsAggregate(node)) throw invalid('INVALID_EXPRESSION', `a computed column cannot aggregate: ${printExpr(node)}`)
    return this.typeOf(expr, `computed column '${name}' of '${this.path}'`)
  }

  /**
   * Adds the index unless one of that name (or, unnamed, on that column) exists. With ifExists 'replace', an existing
   * index built differently (another embedder, its options, metric or full-text configuration) is rebuilt, in the
   * background with background: true (the old index serves until the new one is complete); an identical one is kept.
   * Without it, an existing index built differently is a difference.
   */
  async addEmbeddingIndex(column: string, options: Omit<IndexOptions, 'ifExists'> & { ifExists?: 'ignore' | 'replace'; background?: boolean } = {}): Promise<void> {
    const existing: readonly ExistingIndex[] = this.target ? this.target.listIndexes() : []
    const { ifExists, background, ...indexOptions } = options
    this.#checkIndex(column, indexOptions)
    const name = options.name
    const found = existing.find((i) => (name ? i.name === name : i.column === column))
    const what = `embedding index on ${this.path}.${column}${name ? ` (${name})` : ''}`
    if (found && ifExists !== 'replace') {
      const [was, wanted] = describeIndexChange(found, indexOptions)
      if (!sameIndex(found, column, indexOptions)) this.#db.differ(`${what}: the index ${found.name} is built with ${was}${found.column !== undefined && found.column !== column ? ` on ${found.column}` : ''}, the setup says ${wanted}; to apply it, pass ifExists: 'replace' to addEmbeddingIndex('${column}') (rebuilds the index)`)
      return
    }
    // A background rebuild a previous apply started may still be under way (or wait for `tessera serve` to resume
    // it): it swaps its index in when done, so the index will be what the job builds. One building what the setup
    // says is kept; one building something else (the setup changed again, or went back to the index as it is) is
    // cancelled, else it would replace what this apply leaves or makes.
    const pending = found ? await this.#pendingJob(found.name) : undefined
    if (pending && (!pending.builds || sameIndex({ ...pending.builds, name: found!.name, column }, column, indexOptions))) return
    if (pending) {
      this.#db.changes.push(`cancel the background rebuild of ${what} with ${describeIndexChange({ ...pending.builds!, name: found!.name }, indexOptions)[0]} (job ${pending.id})`)
      if (!this.#db.planning) await this.#db.applying(() => this.#db.target.jobs!.cancel(pending.id, { dropColumn: true }))
    }
    if (found && sameIndex(found, column, indexOptions)) return
    const rows = await this.#rows()
    if (found) {
      const [was, wanted] = describeIndexChange(found, indexOptions)
      this.#db.changes.push(`replace ${what}: ${was} → ${wanted}${rows ? `, ${indexOptions.embed ? 're-embed' : 're-index'} ${rows} rows` : ''}${background ? ' in the background' : ''}`)
    } else {
      this.#db.changes.push(`add ${what}${rows ? `: embed and index ${rows} rows` : ''}`)
    }
    const target = this.target
    if (this.#db.planning || !target?.addEmbeddingIndex) return
    await this.#db.applying(() => this.#addIndex(target, column, found, indexOptions, background, what))
  }

  /** Builds the index (or starts its background rebuild), as addEmbeddingIndex decided. */
  async #addIndex(target: SetupTargetTable, column: string, found: ExistingIndex | undefined, indexOptions: IndexOptions, background: boolean | undefined, what: string): Promise<void> {
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
    await target.addEmbeddingIndex!(column, { ...indexOptions, ...(found ? { name: found.name } : {}), ifExists: found ? 'replace' : 'ignore' })
  }

  /**
   * Refuses, while planning too, a drop the catalog refuses: a key column, or one that computed columns or embedding
   * indexes read (those the setup leaves, or makes, included). Found only when applied, it failed the apply half-way,
   * after the setup's earlier changes were made.
   */
  #refuseDrop(name: string): void {
    if (this.primaryKey()?.includes(name)) throw invalid('HAS_DEPENDENTS', `dropColumn('${name}') on ${this.path}: the column is part of the primary key and cannot be dropped`, { table: this.path, column: name })
    const { columns, indexes } = this.#readersOf(name)
    if (columns.length === 0 && indexes.length === 0) return
    const what = [
      ...(columns.length ? [`computed column(s) ${columns.map((c) => `'${c}'`).join(', ')} (drop them first: dropColumn('${columns[0]}'))`] : []),
      ...(indexes.length ? [`embedding index(es) ${indexes.map((i) => `'${i}'`).join(', ')}`] : []),
    ]
    throw invalid('HAS_DEPENDENTS', `dropColumn('${name}') on ${this.path}: the column is used by ${what.join(' and ')}`, { table: this.path, column: name, dependents: [...columns, ...indexes] })
  }

  /** The computed columns (as the setup leaves or makes them) and embedding indexes that read the column `name`. */
  #readersOf(name: string): { columns: string[]; indexes: string[] } {
    const exprs = new Map(this.#plannedExprs)
    for (const c of this.target?.columns?.() ?? []) if (c.expr !== undefined && !exprs.has(c.name)) exprs.set(c.name, c.expr as ExprNode)
    const columns = [...exprs].filter(([c, e]) => c !== name && !this.#dropped.has(c) && exprReads(e, name)).map(([c]) => c)
    const indexes = (this.target?.listIndexes() ?? []).filter((i) => i.column === name).map((i) => i.name)
    return { columns, indexes }
  }

  /** The running or interrupted job rebuilding this table's index `name`, if any. */
  async #pendingJob(name: string): Promise<PendingJob | undefined> {
    const jobs = (await this.#db.target.jobs?.list()) ?? []
    return jobs.find((j) => j.table === this.path && j.index === name && (j.status === 'running' || j.status === 'interrupted'))
  }

  /** The catalog's checks of an index (the column, its type against the embedder, the options), over the planned schema. */
  #checkIndex(column: string, options: IndexOptions): void {
    const type = this.schema()[column]
    if (type === '' || (type === undefined && this.open)) return // a column the plan cannot know yet
    const columns = type === undefined ? [] : [{ id: 0, name: column, type, addedIn: 0 }]
    checkEmbeddingIndex({ columns, primaryKey: [], nextColumnId: 1 } as never, this.path, column, options as never)
  }

  async dropColumn(name: string): Promise<void> {
    if (!(name in this.schema()) || this.#dropped.has(name)) return
    this.#refuseDrop(name)
    this.#db.changes.push(`drop column ${this.path}.${name}`)
    delete this.#planned[name]
    this.#plannedExprs.delete(name)
    this.#dropped.add(name)
    const target = this.target
    if (!this.#db.planning && target) await this.#db.applying(() => target.dropColumn(name, { ifNotExists: 'ignore' }))
  }
}

/** Whether an expression reads the column `name`. */
function exprReads(node: ExprNode, name: string): boolean {
  const n = node as { col?: unknown; args?: readonly ExprNode[] }
  if (typeof n.col === 'string') return n.col === name
  return (n.args ?? []).some((a) => exprReads(a, name))
}

const ownVectors = (embed: ExistingIndex['embed'] | undefined): boolean => !embed || (embed.fn === 'vectors' && embed.modality === 'vector')
const describeEmbed = (embed: ExistingIndex['embed'] | undefined): string => (ownVectors(embed) ? 'the column\'s own vectors' : `${embed!.fn}(${JSON.stringify(embed!.opts ?? {})})`)

/** What an index is built with, as a plan shows it ('lexical_embed({"dims":32}) → …'), with the metrics where they differ. */
function describeIndexChange(found: ExistingIndex, wanted: IndexOptions): [string, string] {
  const [a, b] = [found.metric ?? 'cosine', wanted.metric ?? 'cosine']
  const metric = (m: string) => (a === b ? '' : `, metric ${m}`)
  return [`${describeEmbed(found.embed)}${metric(a)}`, `${describeEmbed(wanted.embed)}${metric(b)}`]
}

/**
 * Whether an existing index is what the setup asks for; options the setup leaves out (dims, say) match anything. An
 * index over a column of vectors (no embed) is reported with the embedder 'vectors' of modality 'vector'.
 */
function sameIndex(found: ExistingIndex, column: string, wanted: IndexOptions): boolean {
  if (found.column !== undefined && found.column !== column) return false
  if ((wanted.metric ?? 'cosine') !== (found.metric ?? 'cosine')) return false
  if (wanted.fullText !== undefined && (wanted.fullText || undefined) !== found.fullText) return false
  const embed = wanted.embed
  if (!embed) return ownVectors(found.embed)
  if (embed.fn !== found.embed?.fn) return false
  // By content: an option that is an object comes back from the catalog with its keys in another order.
  for (const [k, v] of Object.entries(embed.opts ?? {})) if (!sameJson(found.embed?.opts?.[k], v)) return false
  return true
}
