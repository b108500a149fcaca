import type { ColNode, ExprNode, FnNode, LitNode } from './types.ts'

export const colNode = (col: string, tbl?: string, prop?: ColNode['prop']): ColNode =>
  Object.freeze({ col, ...(tbl ? { tbl } : {}), ...(prop ? { prop } : {}) })

export const litNode = (lit: unknown, type?: string): LitNode => Object.freeze(type ? { lit, type } : { lit })

export const fnNode = (fn: string, args: readonly ExprNode[], opts?: Record<string, unknown>): FnNode =>
  Object.freeze(opts && Object.keys(opts).length > 0 ? { fn, args: Object.freeze([...args]), opts: Object.freeze({ ...opts }) } : { fn, args: Object.freeze([...args]) })
