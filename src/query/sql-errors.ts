import { conflict, errorOf, invalid } from '../errors.ts'
import type { TesseraError } from '../errors.ts'
import { missingDataTableId, translateStoreError } from '../store/index.ts'
import { parseType, pgType } from '../types/index.ts'
import type { ExprNode, FnNode } from './nodes/index.ts'
import { briefJson, isFn, printExpr } from './nodes/index.ts'
import { specExpressions } from './spec.ts'
import type { QuerySpec } from './spec.ts'

// Postgres reports a bad cast or regex without saying which expression caused it; this names the expression, so a
// query fails the same way whether the expression ran in SQL or in TypeScript.

function fnNodesOf(exprs: readonly (ExprNode | undefined)[]): FnNode[] {
  const out: FnNode[] = []
  const walk = (n: ExprNode): void => {
    if (!isFn(n)) return
    out.push(n)
    n.args.forEach(walk)
  }
  for (const n of exprs) if (n) walk(n)
  return out
}

const pgTypeOf = (spec: unknown): string | undefined => {
  try {
    return pgType(parseType(String(spec)))
  } catch {
    return undefined
  }
}

export function translateQueryError(e: unknown, spec: QuerySpec): unknown {
  const err = e as { code?: unknown; message?: unknown }
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string') return e
  // A table dropped while the query ran is named by the path the query used for it (a join's, if it was that one).
  const dropped = missingDataTableId(e)
  const table = (dropped !== undefined ? spec.joins.find((j) => j.source.tableId === dropped)?.source.path : undefined) ?? spec.from.path
  const changed = columnsChangedTable(e, spec)
  if (changed !== undefined) return conflict('CONCURRENCY_CONFLICT', `'${changed}' changed its columns while this query ran; run it again`, { table: changed })
  const named = namedExprFailure(e, specExpressions(spec), table)
  if (named) return named
  if (err.code === '57014' && spec.workBound?.statementTimeoutMs !== undefined && /statement timeout/.test(err.message)) {
    // A request's query with joins ran past the server's bound (work-bound.ts; PostgreSQL server store only).
    const ms = spec.workBound.statementTimeoutMs
    return errorOf('TOO_LARGE', `this query ran longer than ${ms} ms (the server's --max-query-ms), so the store canceled it: narrow it — join on a condition that matches fewer rows, filter the joined tables with where, or join fewer tables`, { limit: ms, table })
  }
  if (err.code === '42P10' && spec.distinct) {
    // Postgres orders distinct rows only by what they hold: an order key must be one of the selected outputs.
    const selected = new Set((spec.select ?? []).map((i) => JSON.stringify(i.expr)))
    const missing = spec.orderBy.filter((o) => !selected.has(JSON.stringify(o.expr))).map((o) => printExpr(o.expr))
    const what = missing.length > 0 ? missing.join(', ') : spec.orderBy.map((o) => printExpr(o.expr)).join(', ')
    return invalid('INVALID_ARGUMENT', `distinct() rows can only be ordered by selected outputs; ${what} is not one: select it too, or order by an output`, { expression: what, table })
  }
  return translateStoreError(e, { table })
}

/**
 * A store error raised by running user expressions (`exprs`: a filter, an update's values, a view's where) on `table`,
 * said in their terms: a failed cast or regex names the expression (INVALID_EXPRESSION), another bad value (22xxx:
 * division by zero, say) is INVALID_ARGUMENT as the store layer says it. Any other error is returned as it is, for
 * the layers around to handle (a server store retries a transaction on its serialization failure, by its code).
 * Every path that runs a user expression in the store translates with this, so a bad filter fails the same way in a
 * query, an update, a delete or a view (it reached HTTP clients as a 500).
 */
export function translateExprError(e: unknown, exprs: readonly (ExprNode | undefined)[], table: string): unknown {
  const err = e as { code?: unknown; message?: unknown }
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string' || !err.code.startsWith('22')) return e
  return namedExprFailure(e, exprs, table) ?? translateStoreError(e, { table })
}

/** The failed cast or regex among `exprs` that a store error names; undefined for any other error. */
export function namedExprFailure(e: unknown, exprs: readonly (ExprNode | undefined)[], table: string): TesseraError | undefined {
  const err = e as { code?: unknown; message?: unknown }
  const cast = castFailure(e, exprs)
  if (cast) return invalid('INVALID_EXPRESSION', cast.message, { expression: cast.expression, table })
  if (err.code === '2201B') {
    const regexes = fnNodesOf(exprs).filter((n) => n.fn === 'match' || n.fn === 'regex_replace')
    const where = regexes.map(printExpr).join(' or ')
    return invalid('INVALID_EXPRESSION', `${String(err.message)}${where ? ` in ${where}` : ''}`, { expression: where, table })
  }
  return undefined
}

/**
 * The path of the table whose data column (c<id>, or its _et/_em error columns) an undefined-column error (42703)
 * names, when the query was planned with that column: the table's columns changed between planning and the
 * statement (a revert dropped a column just added, with its physical column). A retry plans against the new schema,
 * so this is the retryable conflict, not an internal error. Undefined for any other error.
 */
function columnsChangedTable(e: unknown, spec: QuerySpec): string | undefined {
  const err = e as { code?: unknown; message?: unknown }
  if (err.code !== '42703' || typeof err.message !== 'string') return undefined
  // Postgres writes a qualified reference unquoted (column t0.c2 does not exist), a bare one quoted ("c2").
  const m = /^column "?(?:(t\d+)\.)?c(\d+)(?:_et|_em)?"? does not exist/.exec(err.message)
  if (!m) return undefined
  // Aliases as the planner gives them (logical-plan.ts): t0 the main table, t1.. the joined ones in order.
  const sources = [spec.from, ...spec.joins.map((j) => j.source)]
  const candidates = m[1] !== undefined ? [sources[Number(m[1].slice(1))]] : sources
  const id = Number(m[2])
  return candidates.find((s) => s?.md.columns.some((c) => c.id === id))?.path
}

/**
 * A store error from a cast that failed (a value that is not of the target type), said in terms of the astype() calls
 * among `exprs` that can have caused it: `cannot cast "x" to int in astype(s, type="int")`; undefined for any other
 * error. Computed columns' statements name their expressions the same way (src/catalog/data-table/rows.ts).
 */
export function castFailure(e: unknown, exprs: readonly (ExprNode | undefined)[]): { message: string; expression: string } | undefined {
  const err = e as { code?: unknown; message?: unknown }
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string' || !err.code.startsWith('22')) return undefined
  // 22P02 invalid_text_representation, 22007/22008 datetime format/overflow, 22003 out of range.
  const bad = /^invalid input syntax for type ([\w ]+?): "(.*)"$/.exec(err.message) ?? /^(?:date\/time field value out of range|value .* is out of range for type ([\w ]+?)): "?(.*?)"?$/.exec(err.message)
  if (!bad) return undefined
  const casts = fnNodesOf(exprs).filter((n) => n.fn === 'astype' && (!bad[1] || pgTypeOf(n.opts?.type) === bad[1]))
  if (casts.length === 0) return undefined
  const expression = casts.map(printExpr).join(' or ')
  return { message: `cannot cast ${briefJson(bad[2])} to ${String(casts[0]!.opts?.type)} in ${expression}`, expression }
}
