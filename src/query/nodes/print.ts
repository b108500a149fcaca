import type { ExprNode } from './types.ts'
import { isCol, isLit } from './types.ts'

const INFIX: Record<string, string> = {
  eq: '==', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=', add: '+', sub: '-', mul: '*', div: '/', mod: '%',
  and: '&', or: '|',
}

/** A readable form of an expression for error messages: `(price * 2) > 10`, `upper(text)`. */
export function printExpr(n: ExprNode): string {
  if (isCol(n)) return (n.tbl ? `${n.tbl}.` : '') + n.col + (n.prop ? `.${n.prop}` : '')
  if (isLit(n)) return n.lit instanceof Date ? `'${n.lit.toISOString()}'` : JSON.stringify(n.lit) ?? 'undefined'
  const op = INFIX[n.fn]
  if (op && n.args.length === 2) return `(${printExpr(n.args[0]!)} ${op} ${printExpr(n.args[1]!)})`
  const opts = n.opts ? Object.entries(n.opts).map(([k, v]) => `${k}=${JSON.stringify(v)}`) : []
  return `${n.fn}(${[...n.args.map(printExpr), ...opts].join(', ')})`
}
