import type { ColumnType } from '../types/index.ts'
import type { ExprNode, LitNode } from './nodes/index.ts'
import { isCol, isLit } from './nodes/index.ts'
import { checkCoercedLiterals, coercedLiteralTypes } from './literals.ts'
import { functions } from './registry.ts'
import type { SqlEmitter } from './registry.ts'
import { quoteIdent } from './sql.ts'
import type { Scope } from './typecheck.ts'
import { litType, typeOf } from './typecheck.ts'

// Expression → SQL. One recursive visitor; each function definition writes its own SQL from compiled arguments.

/** True when the whole expression can run inside Postgres. */
export function isSqlExpr(node: ExprNode): boolean {
  if (isCol(node) || isLit(node)) return true
  const def = functions.get(node.fn, node)
  return def.sql !== undefined && node.args.every(isSqlExpr)
}

export function compileExpr(node: ExprNode, scope: Scope, emit: SqlEmitter): string {
  if (isCol(node)) {
    const binding = scope.resolve(node)
    if (!node.prop) return binding.sql
    // alias.cN → alias.cN_et / alias.cN_em: the error columns sit beside the value column.
    return binding.sql + (node.prop === 'errortype' ? '_et' : '_em')
  }
  if (isLit(node)) return literal(emit, node, litType(node))
  // x == null / x != null compile to IS [NOT] NULL, so no unused null parameter is emitted.
  if ((node.fn === 'eq' || node.fn === 'ne') && node.args.length === 2) {
    const nullSide = node.args.findIndex((a) => isLit(a) && a.lit === null)
    if (nullSide >= 0) {
      const other = compileExpr(node.args[1 - nullSide]!, scope, emit)
      return `(${other} is ${node.fn === 'eq' ? '' : 'not '}null)`
    }
  }
  const def = functions.get(node.fn, node)
  if (!def.sql) throw new Error(`internal: ${node.fn} has no SQL form`)
  const types = node.args.map((a) => typeOf(a, scope))
  // Checked here too, not only by typeOf: callers compile expressions (a view's where, an update's values) whose
  // root was never type-checked as a whole.
  const coerced = def.coerceLiterals ? coercedLiteralTypes(node, types) : []
  checkCoercedLiterals(node, coerced)
  const args = node.args.map((a, i) => {
    const as = coerced[i]
    if (as && isLit(a)) return { sql: literal(emit, a, as), type: as }
    return { sql: compileExpr(a, scope, emit), type: types[i]! }
  })
  return def.sql(args, emit, node)
}

const literal = (emit: SqlEmitter, node: LitNode, type: ColumnType): string => (emit.literal ? emit.literal(node, type) : emit.param(node.lit, type))

export { quoteIdent }
