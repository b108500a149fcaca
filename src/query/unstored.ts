import { invalid } from '../errors.ts'
import type { ColNode, ExprNode } from './nodes/index.ts'
import { colNode, isCol, isFn, litNode, mapNodes, someNode, withArgs } from './nodes/index.ts'
import type { QuerySource, QuerySpec } from './spec.ts'

// Computed columns added with stored: false have no data column: wherever a query names one, its expression takes
// its place (recursively, for unstored columns over unstored columns), so SQL computes what SQL can and the rest
// (UDFs, video frames) is computed in TypeScript for the rows read. Their errortype/errormsg are null: nothing is
// stored, and a failure on read fails the read.

type Sources = readonly QuerySource[]

function sourceOf(node: ColNode, sources: Sources): QuerySource | undefined {
  const hits = sources.filter((s) => (!node.tbl || s.path === node.tbl || s.path.split('/').at(-1) === node.tbl) && s.md.columns.some((c) => c.name === node.col))
  // Unknown or ambiguous names are left for the scope to report.
  return hits.length === 1 ? hits[0] : undefined
}

/** The expression with every unstored computed column replaced by its definition. */
export function inlineUnstored(node: ExprNode, sources: Sources, seen: ReadonlySet<string> = new Set()): ExprNode {
  if (isFn(node)) return withArgs(node, node.args.map((a) => inlineUnstored(a, sources, seen)))
  if (!isCol(node)) return node
  const source = sourceOf(node, sources)
  const column = source?.md.columns.find((c) => c.name === node.col)
  // errortype/errormsg exist for computed columns and media columns with per-cell errors; said here, not by SQL.
  if (node.prop && column && !column.computed && !column.cellErrors) {
    throw invalid('INVALID_EXPRESSION', `column '${column.name}' has no ${node.prop}: only computed columns${column.type.startsWith('image') || column.type.startsWith('video') || column.type.startsWith('audio') || column.type.startsWith('document') ? ' and media columns created with per-cell errors' : ' and media columns'} store per-cell errors`, { column: column.name })
  }
  if (!source || !column?.computed || column.computed.stored !== false) return node
  if (node.prop) return litNode(null, 'string?')
  const key = `${source.path}.${column.name}`
  if (seen.has(key)) throw invalid('INVALID_EXPRESSION', `computed column '${column.name}' depends on itself`)
  // The definition names columns of its own table: qualify them when the query reads several tables.
  const qualify = (n: ExprNode): ExprNode => (isCol(n) ? colNode(n.col, source.path, n.prop) : n)
  const expr = sources.length > 1 ? mapNodes(column.computed.expr, qualify) : column.computed.expr
  return inlineUnstored(expr, sources, new Set([...seen, key]))
}

const hasProp = (n: ExprNode): boolean => someNode(n, (x) => isCol(x) && x.prop !== undefined)
const mentionsErrors = (spec: QuerySpec): boolean =>
  [spec.where, ...(spec.select ?? []).map((s) => s.expr), ...spec.orderBy.map((o) => o.expr), ...(spec.groupBy ?? []), ...spec.joins.map((j) => j.on)].some((n) => n !== undefined && hasProp(n))

const hasUnstored = (sources: Sources): boolean => sources.some((s) => s.md.columns.some((c) => c.computed?.stored === false))

/** The spec with unstored columns inlined in every expression it holds (a no-op for tables without them). */
export function inlineUnstoredSpec(spec: QuerySpec): QuerySpec {
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  if (!hasUnstored(sources) && !mentionsErrors(spec)) return spec
  const f = (n: ExprNode) => inlineUnstored(n, sources)
  return {
    ...spec,
    joins: spec.joins.map((j) => (j.on ? { ...j, on: f(j.on) } : j)),
    ...(spec.where ? { where: f(spec.where) } : {}),
    ...(spec.select ? { select: spec.select.map((s) => ({ ...s, expr: f(s.expr) })) } : {}),
    orderBy: spec.orderBy.map((o) => ({ ...o, expr: f(o.expr) })),
    ...(spec.groupBy ? { groupBy: spec.groupBy.map(f) } : {}),
  }
}
