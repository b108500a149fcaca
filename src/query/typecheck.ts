import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { parseType } from '../types/index.ts'
import type { ColNode, ExprNode, LitNode } from './nodes/index.ts'
import { colNode, isCol, isFn, isLit, printExpr, someNode } from './nodes/index.ts'
import { checkCoercedLiterals, checkLiteral, coercedLiteralTypes } from './literals.ts'
import { functions } from './registry.ts'

/** What a column reference means in the query being compiled: its SQL (alias.column) and its type. */
export interface ColumnBinding {
  readonly sql: string
  readonly type: ColumnType
  /** Name of the binding in TypeScript evaluation rows. */
  readonly key: string
  /** The column has per-cell error columns (errortype/errormsg): a stored computed column, or a media column made since they exist. */
  readonly computed?: boolean
}

export interface Scope {
  resolve(node: ColNode): ColumnBinding
}

const STRING_T: ColumnType = Object.freeze({ kind: 'string', nullable: true })

export function litType(node: LitNode): ColumnType {
  if (node.type) {
    const t = parseType(node.type)
    checkLiteral(node, t)
    return t
  }
  const v = node.lit
  if (v === null || v === undefined) return Object.freeze({ kind: 'json', nullable: true })
  if (typeof v === 'number') return Object.freeze({ kind: Number.isInteger(v) ? 'int' : 'float', nullable: false })
  if (typeof v === 'bigint') return Object.freeze({ kind: 'int', nullable: false })
  if (typeof v === 'string') return Object.freeze({ kind: 'string', nullable: false })
  if (typeof v === 'boolean') return Object.freeze({ kind: 'bool', nullable: false })
  if (v instanceof Date) return Object.freeze({ kind: 'timestamp', nullable: false })
  if (v instanceof Uint8Array) return Object.freeze({ kind: 'binary', nullable: false })
  return Object.freeze({ kind: 'json', nullable: false })
}

/** The type of an expression in a scope; throws a RequestError naming the expression when it does not type-check. */
export function typeOf(node: ExprNode, scope: Scope): ColumnType {
  if (isCol(node)) {
    if (node.prop) {
      const binding = scope.resolve(colNode(node.col, node.tbl))
      if (binding.computed === false) throw invalid('INVALID_EXPRESSION', `'${node.col}' has no per-cell errors: only computed (and media) columns have ${node.prop} (in ${printExpr(node)})`, { expression: printExpr(node) })
      return STRING_T
    }
    return scope.resolve(node).type
  }
  if (isLit(node)) return litType(node)
  const def = functions.get(node.fn, node)
  const n = node.args.length
  if (n < def.minArgs || n > def.maxArgs) {
    const want = def.minArgs === def.maxArgs ? `${def.minArgs}` : `${def.minArgs}..${def.maxArgs === Infinity ? 'n' : def.maxArgs}`
    throw invalid('INVALID_EXPRESSION', `${node.fn}() takes ${want} arguments, got ${n} in ${printExpr(node)}`, { expression: printExpr(node) })
  }
  if (def.kind === 'aggregate' && node.args.some(containsAggregate)) {
    throw invalid('INVALID_EXPRESSION', `aggregates cannot be nested: ${printExpr(node)}`, { expression: printExpr(node) })
  }
  const types = node.args.map((a) => typeOf(a, scope))
  const type = def.returnType(types, node)
  if (def.coerceLiterals) checkCoercedLiterals(node, coercedLiteralTypes(node, types))
  return type
}

export function containsAggregate(node: ExprNode): boolean {
  return someNode(node, (n) => isFn(n) && functions.get(n.fn, n).kind === 'aggregate')
}
