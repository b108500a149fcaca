import type { ColumnMd, TableMd } from './metadata.ts'
import { invalid, notFound } from '../errors.ts'
import { colNode, isSqlExpr, isCol, isFn, mapNodes, printExpr, functions, withArgs } from '../query/index.ts'
import type { ColNode, ExprNode, ColumnBinding, QuerySpec, Scope } from '../query/index.ts'
import { parseType } from '../types/index.ts'
import { stricterLimits } from '../media/index.ts'
import type { AuthorLimits } from '../media/index.ts'

// The computed-column graph. A computed column's expression may name earlier columns, computed or not; inlining the
// computed ones ("substitution") gives an expression over stored input columns only, which SQL or TypeScript can
// evaluate for a new or updated row in one pass.

export interface ComputedPlan {
  readonly column: ColumnMd
  /** The expression with every computed column inlined: it reads input columns only. */
  readonly expr: ExprNode
  /** 'sql': computed inside the INSERT/UPDATE statement; 'ts': evaluated in TypeScript (UDFs, per-cell errors). */
  readonly mode: 'sql' | 'ts'
  /** Names of the input columns it reads. */
  readonly inputs: ReadonlySet<string>
  /** The stricter of the limits of its column's author and of every computed column it inlines (author-limits.ts). */
  readonly limits?: AuthorLimits
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

/** Inlines computed columns; refuses cycles and references to unknown columns. */
export function substitute(node: ExprNode, md: TableMd, seen: ReadonlySet<string> = new Set()): ExprNode {
  if (isCol(node)) {
    const c = md.columns.find((x) => x.name === node.col)
    if (!c) throw notFound('COLUMN_NOT_FOUND', `unknown column '${node.col}' in ${printExpr(node)}`, { column: node.col })
    if (node.prop || !c.computed) return node.tbl ? colNode(node.col, undefined, node.prop) : node
    if (seen.has(c.name)) throw invalid('INVALID_EXPRESSION', `computed column '${c.name}' depends on itself`)
    return substitute(c.computed.expr, md, new Set([...seen, c.name]))
  }
  if (isFn(node)) return withArgs(node, node.args.map((a) => substitute(a, md, seen)))
  return node
}

export function computedPlans(md: TableMd): ComputedPlan[] {
  // Columns with stored: false are computed when read (src/query/planner.ts), never written.
  return md.columns.filter((c) => c.computed && c.computed.stored !== false).map((column) => {
    const expr = substitute(column.computed!.expr, md, new Set([column.name]))
    const sqlOk = isSqlExpr(expr) && !hasProp(expr)
    const mode = sqlOk && (column.computed!.onError === 'abort' || !canEvalInTs(expr)) ? 'sql' : 'ts'
    const limits = authorLimitsOf(column, md)
    return { column, expr, mode, inputs: columnRefs(expr), ...(limits ? { limits } : {}) }
  })
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
  const exprs = [spec.where, ...(spec.select ?? []).map((x) => x.expr), ...spec.orderBy.map((o) => o.expr), ...(spec.groupBy ?? []), ...spec.joins.map((j) => j.on)]
  for (const e of exprs) if (e) columnRefs(e, named)
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
