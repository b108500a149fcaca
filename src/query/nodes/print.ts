import type { ExprNode } from './types.ts'
import { isCol, isLit } from './types.ts'

const INFIX: Record<string, string> = {
  eq: '==', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=', add: '+', sub: '-', mul: '*', div: '/', mod: '%',
  and: '&', or: '|',
}

/**
 * Most characters of one literal (or option value) an error message shows. A message names the expression; it does
 * not echo what a request sent in it: a 5 MB string literal in a failing cast made a 15 MB error answer (the
 * message, and the expression again in its details), and a computed column's message is stored in each failing cell.
 */
export const MESSAGE_LITERAL_CHARS = 80

/** A value (a literal, a cell that failed a cast) as JSON for an error message, cut after MESSAGE_LITERAL_CHARS. */
export function briefJson(x: unknown): string {
  return cut(JSON.stringify(x) ?? 'undefined', MESSAGE_LITERAL_CHARS)
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}… (${text.length.toLocaleString('en-US')} characters)` : text)

/** A readable form of an expression for error messages: `(price * 2) > 10`, `upper(text)`; long literals cut ("…"). */
export function printExpr(n: ExprNode): string {
  return print(n, MESSAGE_LITERAL_CHARS)
}

/**
 * The whole text of an expression, every literal in full: a computed column's definition as it is shown
 * (computedWith, which a setup compares), and where the text stands for the expression (a cache key).
 */
export function exprText(n: ExprNode): string {
  return print(n, Number.POSITIVE_INFINITY)
}

function print(n: ExprNode, max: number): string {
  const value = (x: unknown): string => cut(JSON.stringify(x) ?? 'undefined', max)
  if (isCol(n)) return (n.tbl ? `${n.tbl}.` : '') + n.col + (n.prop ? `.${n.prop}` : '')
  if (isLit(n)) return n.lit instanceof Date ? `'${n.lit.toISOString()}'` : value(n.lit)
  const op = INFIX[n.fn]
  if (op && n.args.length === 2) return `(${print(n.args[0]!, max)} ${op} ${print(n.args[1]!, max)})`
  const opts = n.opts ? Object.entries(n.opts).map(([k, v]) => `${k}=${value(v)}`) : []
  return `${n.fn}(${[...n.args.map((a) => print(a, max)), ...opts].join(', ')})`
}
