// Expression nodes are frozen plain data; their JSON form *is* the wire format of the HTTP API
// (e.g. {"fn":"gt","args":[{"col":"id"},{"lit":0}]}), so any language can build them.

/** A column reference; `tbl` qualifies it in joins, `prop` reads a computed column's per-cell error instead. */
export interface ColNode {
  readonly col: string
  readonly tbl?: string
  readonly prop?: 'errortype' | 'errormsg'
}

/** A literal. `type` forces a column type (e.g. 'timestamp' for an ISO string). */
export interface LitNode {
  readonly lit: unknown
  readonly type?: string
}

/** A function or operator application. `opts` holds non-expression options (a regex flag, a cast target...). */
export interface FnNode {
  readonly fn: string
  readonly args: readonly ExprNode[]
  readonly opts?: Readonly<Record<string, unknown>>
}

export type ExprNode = ColNode | LitNode | FnNode

export const isCol = (n: ExprNode): n is ColNode => typeof (n as ColNode).col === 'string'
export const isLit = (n: ExprNode): n is LitNode => 'lit' in n
export const isFn = (n: ExprNode): n is FnNode => typeof (n as FnNode).fn === 'string'

const KEYS = { col: ['col', 'tbl', 'prop'], lit: ['lit', 'type'], fn: ['fn', 'args', 'opts'] } as const

/**
 * THE check for "is this an expression node": a plain object with exactly a node's shape ({col}, {lit}, {fn, args}),
 * checked recursively. The builder, select() and update values use it to tell a JSON-form expression from a JSON
 * value (anything else is a literal); whatever it accepts, ExprNodeSchema accepts too (test/query/nodes.test.ts).
 */
export function isExprNode(x: unknown): x is ExprNode {
  if (!x || typeof x !== 'object' || Array.isArray(x) || x instanceof Date) return false
  const o = x as Record<string, unknown>
  const kind = typeof o.col === 'string' && o.col !== '' ? 'col' : 'lit' in o ? 'lit' : typeof o.fn === 'string' && o.fn !== '' ? 'fn' : undefined
  if (!kind || !Object.keys(o).every((k) => (KEYS[kind] as readonly string[]).includes(k))) return false
  if (kind === 'col') return (o.tbl === undefined || typeof o.tbl === 'string') && (o.prop === undefined || o.prop === 'errortype' || o.prop === 'errormsg')
  if (kind === 'lit') return o.type === undefined || typeof o.type === 'string'
  return Array.isArray(o.args) && o.args.every(isExprNode) && (o.opts === undefined || (typeof o.opts === 'object' && o.opts !== null && !Array.isArray(o.opts)))
}
