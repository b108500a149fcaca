import type { ColumnMd, TableMd } from './metadata.ts'
import { invalid, notFound } from '../errors.ts'
import { colNode, isSqlExpr, isCol, isFn, mapNodes, printExpr, functions, specExpressions, withArgs } from '../query/index.ts'
import type { ColNode, ExprNode, ColumnBinding, QuerySpec, Scope } from '../query/index.ts'
import { isMedia, parseType } from '../types/index.ts'
import { stricterLimits } from '../media/index.ts'
import type { AuthorLimits } from '../media/index.ts'

// The computed-column graph. A computed column's expression may name earlier columns, computed or not; inlining the
// computed ones ("substitution") gives an expression over stored columns, which SQL or TypeScript can evaluate for a
// new or updated row in one pass. A computed column that calls TypeScript itself (a UDF, a model, a provider) is not
// inlined: its dependents read its value, computed before them in the same write or stored, since a second call would
// cost again and could answer differently (an LLM column read by two others was called three times a row).

export interface ComputedPlan {
  readonly column: ColumnMd
  /** The expression with computed columns inlined, except those it `reads`: it names stored columns only. */
  readonly expr: ExprNode
  /** 'sql': computed inside the INSERT/UPDATE statement; 'ts': evaluated in TypeScript (UDFs, per-cell errors). */
  readonly mode: 'sql' | 'ts'
  /** Names of the columns it reads: input columns, and the computed columns in `reads`. */
  readonly inputs: ReadonlySet<string>
  /**
   * Computed columns it reads by value rather than inlining (they call TypeScript, see isReadByValue): computed
   * before it when the same write computes them, else read as stored with their errors (readValueColumns).
   */
  readonly reads: ReadonlySet<string>
  /**
   * The media columns among its inputs: their values are this table's, so a scoped token computing the column may
   * read their bytes without a lookup per row (src/media/read-gate.ts).
   */
  readonly mediaInputs?: ReadonlySet<string>
  /** The stricter of the limits of its column's author and of every computed column it inlines (author-limits.ts). */
  readonly limits?: AuthorLimits
}

/** Columns an expression reads by value: its references other than .errortype/.errormsg. */
export function valueRefs(node: ExprNode, out = new Set<string>()): Set<string> {
  if (isCol(node)) {
    if (!node.prop) out.add(node.col)
  } else if (isFn(node)) node.args.forEach((a) => valueRefs(a, out))
  return out
}

export function columnRefs(node: ExprNode, out = new Set<string>()): Set<string> {
  if (isCol(node)) out.add(node.col)
  else if (isFn(node)) node.args.forEach((a) => columnRefs(a, out))
  return out
}

function canEvalInTs(node: ExprNode): boolean {
  if (!isFn(node)) return true
  const def = functions.get(node.fn, node)
  return (def.eval !== undefined || def.evalBatch !== undefined) && node.args.every(canEvalInTs)
}

/**
 * Inlines computed columns, except those `byValue` keeps as references (read as values); refuses cycles and
 * references to unknown columns.
 */
export function substitute(node: ExprNode, md: TableMd, seen: ReadonlySet<string> = new Set(), byValue: (c: ColumnMd) => boolean = () => false): ExprNode {
  if (isCol(node)) {
    const c = md.columns.find((x) => x.name === node.col)
    if (!c) throw notFound('COLUMN_NOT_FOUND', `unknown column '${node.col}' in ${printExpr(node)}`, { column: node.col })
    if (node.prop || !c.computed) return node.tbl ? colNode(node.col, undefined, node.prop) : node
    if (seen.has(c.name)) throw invalid('INVALID_EXPRESSION', `computed column '${c.name}' depends on itself`)
    if (byValue(c)) return node.tbl ? colNode(node.col) : node
    return substitute(c.computed.expr, md, new Set([...seen, c.name]), byValue)
  }
  if (isFn(node)) return withArgs(node, node.args.map((a) => substitute(a, md, seen, byValue)))
  return node
}

/**
 * Whether dependents read `c`'s value instead of inlining its expression: a stored computed column whose own
 * expression (its by-value references aside) needs TypeScript. Inlining stays for SQL-expressible columns: computing
 * them again is cheap and gives the same answer, and it lets SQL compute a chain in one statement.
 */
function isReadByValue(c: ColumnMd, md: TableMd, memo: Map<string, boolean>, seen: ReadonlySet<string> = new Set()): boolean {
  if (!c.computed || c.computed.stored === false) return false
  const known = memo.get(c.name)
  if (known !== undefined) return known
  const next = new Set([...seen, c.name])
  const own = substitute(c.computed.expr, md, next, (d) => !next.has(d.name) && isReadByValue(d, md, memo, next))
  const byValue = !isSqlExpr(own)
  memo.set(c.name, byValue)
  return byValue
}

export function computedPlans(md: TableMd): ComputedPlan[] {
  const memo = new Map<string, boolean>()
  const byValue = (c: ColumnMd) => isReadByValue(c, md, memo)
  // Columns with stored: false are computed when read (src/query/planner.ts), never written.
  const plans = md.columns.filter((c) => c.computed && c.computed.stored !== false).map((column): ComputedPlan => {
    const partial = substitute(column.computed!.expr, md, new Set([column.name]), byValue)
    const reads = new Set([...columnRefs(partial)].filter((n) => md.columns.some((c) => c.name === n && c.computed)))
    // A column reading another by value is computed in TypeScript after it; one whose functions have no TypeScript
    // form falls back to inlining (and computes again what it reads).
    const expr = reads.size > 0 && !canEvalInTs(partial) ? substitute(column.computed!.expr, md, new Set([column.name])) : partial
    const read = expr === partial ? reads : new Set<string>()
    const sqlOk = read.size === 0 && isSqlExpr(expr) && !hasProp(expr)
    const mode = sqlOk && (column.computed!.onError === 'abort' || !canEvalInTs(expr)) ? 'sql' : 'ts'
    const limits = authorLimitsOf(column, md)
    const inputs = columnRefs(expr)
    const mediaInputs = new Set([...inputs].filter((n) => md.columns.some((c) => c.name === n && isMedia(parseType(c.type)))))
    return { column, expr, mode, inputs, reads: read, mediaInputs, ...(limits ? { limits } : {}) }
  })
  return inReadOrder(plans)
}

/** The computed columns `plans` read by value (ComputedPlan.reads), to read as stored beside their inputs. */
export function readByValue(md: TableMd, plans: readonly ComputedPlan[]): ColumnMd[] {
  const names = new Set(plans.flatMap((p) => [...p.reads]))
  return md.columns.filter((c) => names.has(c.name))
}

/** The row keys of a by-value read's stored error (its value is under its name): readers add them beside the value. */
export const readErrorKeys = (name: string): { errortype: string; errormsg: string } => ({ errortype: `${name}:errortype`, errormsg: `${name}:errormsg` })

/** Plans ordered so that a plan comes after the plans of the columns it reads by value (a replaced column moves last). */
function inReadOrder(plans: readonly ComputedPlan[]): ComputedPlan[] {
  const pending = new Map(plans.map((p) => [p.column.name, p]))
  const out: ComputedPlan[] = []
  while (pending.size > 0) {
    const ready = [...pending.values()].filter((p) => [...p.reads].every((n) => !pending.has(n)))
    // Cycles are refused when a column is defined; should one appear, keep the stored order rather than loop.
    for (const p of ready.length > 0 ? ready : [...pending.values()]) (out.push(p), pending.delete(p.column.name))
  }
  return out
}

/** The stricter of the limits of `column`'s author and of the authors of the computed columns it reads. */
function authorLimitsOf(column: ColumnMd, md: TableMd, seen: ReadonlySet<string> = new Set()): AuthorLimits | undefined {
  if (!column.computed) return undefined
  let limits = column.computed.limits
  for (const name of columnRefs(column.computed.expr)) {
    const c = md.columns.find((x) => x.name === name)
    if (c?.computed && !seen.has(name)) limits = stricterLimits(limits, authorLimitsOf(c, md, new Set([...seen, column.name])))
  }
  return limits
}

/**
 * The limits a query runs its media reads under when it reads unstored computed columns defined by restricted callers
 * (computed when read, whoever reads): the stricter of their authors' limits, and what to call them in an error;
 * undefined when it reads none.
 */
export function unstoredLimits(spec: QuerySpec): { limits: AuthorLimits; what: string } | undefined {
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  const limited = sources.flatMap((s) => s.md.columns.filter((c) => c.computed?.stored === false && c.computed.limits))
  if (limited.length === 0) return undefined
  // Without a select list every visible column is read.
  const named = new Set<string>()
  for (const e of specExpressions(spec)) if (e) columnRefs(e, named)
  const read = limited.filter((c) => (spec.select === undefined && !c.hidden) || named.has(c.name))
  if (read.length === 0) return undefined
  const limits = read.reduce<AuthorLimits | undefined>((l, c) => stricterLimits(l, c.computed!.limits), undefined)!
  return { limits, what: read.length === 1 ? `column '${read[0]!.name}'` : `columns ${read.map((c) => `'${c.name}'`).join(', ')}` }
}

/**
 * Computed columns to recompute when `changed` columns change: those reading any of them (cascade), directly or
 * through other computed columns. A plan's inputs are the stored columns of its inlined expression, which names no
 * computed column: a changed computed column (recomputeColumns) is found through the columns that name it, transitively.
 */
export function dependentPlans(md: TableMd, changed: ReadonlySet<string>): ComputedPlan[] {
  const reached = new Set(changed)
  for (let grew = true; grew;) {
    grew = false
    for (const c of md.columns) {
      if (!c.computed || reached.has(c.name)) continue
      if ([...columnRefs(c.computed.expr)].some((n) => reached.has(n))) (reached.add(c.name), (grew = true))
    }
  }
  return computedPlans(md).filter((p) => (reached.has(p.column.name) && !changed.has(p.column.name)) || [...p.inputs].some((n) => changed.has(n)))
}

function hasProp(node: ExprNode): boolean {
  return isCol(node) ? node.prop !== undefined : isFn(node) ? node.args.some(hasProp) : false
}

/** Computed columns whose expressions name `name` directly. */
export function directDependents(md: TableMd, name: string): ColumnMd[] {
  return md.columns.filter((c) => c.computed && columnRefs(c.computed.expr).has(name))
}

/** A scope over a table's columns where each column's SQL is chosen by the caller (x.c3, old.c3, a new value...). */
export class ColumnScope implements Scope {
  readonly #md: TableMd
  readonly #sqlFor: (column: ColumnMd) => string

  constructor(md: TableMd, sqlFor: (column: ColumnMd) => string) {
    this.#md = md
    this.#sqlFor = sqlFor
  }

  resolve(node: ColNode): ColumnBinding {
    const c = this.#md.columns.find((x) => x.name === node.col)
    if (!c) {
      throw notFound('COLUMN_NOT_FOUND', `unknown column '${node.col}'; columns are: ${this.#md.columns.filter((x) => !x.hidden).map((x) => x.name).join(', ')}`, { column: node.col })
    }
    return { sql: this.#sqlFor(c), type: parseType(c.type), key: c.name }
  }
}

/** Column references renamed by `names` (old → new), all at once: a swap of two names stays a swap. */
export function renameColumnRefs(node: ExprNode, names: ReadonlyMap<string, string>): ExprNode {
  if (names.size === 0) return node
  return mapNodes(node, (n) => (isCol(n) && names.has(n.col) ? colNode(names.get(n.col)!, n.tbl, n.prop) : n))
}

/** Drops table qualifiers from column references: stored expressions name columns of their own table only. */
export function stripTables(node: ExprNode): ExprNode {
  return mapNodes(node, (n) => (isCol(n) && n.tbl ? colNode(n.col, undefined, n.prop) : n))
}

/**
 * An expression over the columns of one table only (a computed column, a job's, an update's values and filter, a
 * delete's or recompute's filter, a view's filter over its base), its qualifiers dropped. `paths`: the table's path,
 * then its bases' when it is a view (which carries their columns: `items.c.name` in an expression of a view of
 * items). A column qualified with any other table is refused, as a query refuses a table it does not read
 * (src/query/scope.ts): these expressions resolve names against the one table, so `{"col": "s", "tbl": "other"}`
 * read this table's own 's' (an update meant to filter on another table changed the rows whose own 's' matched). A
 * qualifier names a table as a query's does: its path, or the last part of it.
 */
export function ownColumns(node: ExprNode, paths: string | readonly string[]): ExprNode {
  const list = typeof paths === 'string' ? [paths] : paths
  const own = (tbl: string) => list.some((path) => tbl === path || tbl === path.split('/').at(-1))
  return mapNodes(node, (n) => {
    if (!isCol(n) || !n.tbl) return n
    if (!own(n.tbl)) throw invalid('INVALID_EXPRESSION', `table '${n.tbl}' is not part of this expression (in ${printExpr(n)}): it reads the columns of '${list[0]}' only${list.length > 1 ? ` (and those its bases ${list.slice(1).map((p) => `'${p}'`).join(', ')} give it)` : ''}`, { expression: printExpr(n) })
    return colNode(n.col, undefined, n.prop)
  })
}
