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
