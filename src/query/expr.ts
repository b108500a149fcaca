import { invalid } from '../errors.ts'
import type { ExprNode } from './nodes/index.ts'
import { colNode, exprText, fnNode, isCol, isExprNode, litNode, printExpr } from './nodes/index.ts'

// The expression builder users hold: `docs.c.price.mul(2).gt(10)`. Immutable: every method returns a new Expr
// around a new frozen node, so expressions can be shared and reused freely.

export type ExprLike = Expr | ExprNode | string | number | boolean | null | Date | readonly unknown[] | Record<string, unknown>

export function toNode(x: ExprLike | undefined): ExprNode {
  if (x instanceof Expr) return x.node
  // undefined is never a value here: it is what a misspelt member gives (`t.c.j['k']` on an Expr, `row.missing`), and
  // taking it as null made an always-null computed column or a where that matches nothing, silently. A null is
  // written null (or lit(null)).
  if (x === undefined) throw invalid('INVALID_EXPRESSION', "an expression or a value is required, got undefined (a property that does not exist, such as t.c.j['k'] where t.c.j.get('k') was meant? write null for a null value)")
  // A JSON-form node ({ col: 'id' }) is an expression, not a JSON literal; wrap such a value in lit() to mean the data.
  if (isExprNode(x)) return x
  return litNode(x)
}

export class Expr {
  readonly node: ExprNode

  constructor(node: ExprNode) {
    this.node = node
  }

  /** Applies any registered function (built-in or UDF) with this expression as the first argument. */
  apply(fn: string, args: readonly ExprLike[] = [], opts?: Record<string, unknown>): Expr {
    return new Expr(fnNode(fn, [this.node, ...args.map(toNode)], opts))
  }

  // comparisons (== null means IS NULL)
  eq(x: ExprLike): Expr { return this.apply('eq', [x]) }
  ne(x: ExprLike): Expr { return this.apply('ne', [x]) }
  gt(x: ExprLike): Expr { return this.apply('gt', [x]) }
  ge(x: ExprLike): Expr { return this.apply('ge', [x]) }
  lt(x: ExprLike): Expr { return this.apply('lt', [x]) }
  le(x: ExprLike): Expr { return this.apply('le', [x]) }
  isNull(): Expr { return this.apply('is_null') }
  isNotNull(): Expr { return this.apply('is_not_null') }
  isin(values: readonly unknown[]): Expr { return this.apply('isin', [], { values: [...values] }) }

  // boolean logic
  and(...xs: ExprLike[]): Expr { return this.apply('and', xs) }
  or(...xs: ExprLike[]): Expr { return this.apply('or', xs) }
  not(): Expr { return this.apply('not') }

  // arithmetic
  add(x: ExprLike): Expr { return this.apply('add', [x]) }
  sub(x: ExprLike): Expr { return this.apply('sub', [x]) }
  mul(x: ExprLike): Expr { return this.apply('mul', [x]) }
  div(x: ExprLike): Expr { return this.apply('div', [x]) }
  floordiv(x: ExprLike): Expr { return this.apply('floordiv', [x]) }
  mod(x: ExprLike): Expr { return this.apply('mod', [x]) }
  neg(): Expr { return this.apply('neg') }
  abs(): Expr { return this.apply('abs') }
  /** Half away from zero, to `digits` decimals (negative digits round to tens, hundreds...). */
  round(digits = 0): Expr { return this.apply('round', [], digits === 0 ? undefined : { digits }) }
  floor(): Expr { return this.apply('floor') }
  ceil(): Expr { return this.apply('ceil') }
  clip(lo: ExprLike, hi: ExprLike): Expr { return this.apply('clip', [lo, hi]) }

  // timestamps and dates (fields in UTC)
  year(): Expr { return this.apply('year') }
  month(): Expr { return this.apply('month') }
  day(): Expr { return this.apply('day') }
  hour(): Expr { return this.apply('hour') }
  minute(): Expr { return this.apply('minute') }
  second(): Expr { return this.apply('second') }
  weekday(): Expr { return this.apply('weekday') }
  strftime(format: string): Expr { return this.apply('strftime', [], { format }) }

  // strings
  contains(s: ExprLike): Expr { return this.apply('contains', [s]) }
  startswith(s: ExprLike): Expr { return this.apply('startswith', [s]) }
  endswith(s: ExprLike): Expr { return this.apply('endswith', [s]) }
  lower(): Expr { return this.apply('lower') }
  upper(): Expr { return this.apply('upper') }
  capitalize(): Expr { return this.apply('capitalize') }
  strip(): Expr { return this.apply('strip') }
  len(): Expr { return this.apply('len') }
  find(s: ExprLike): Expr { return this.apply('find', [s]) }
  replace(from: ExprLike, to: ExprLike): Expr { return this.apply('replace', [from, to]) }
  concat(s: ExprLike): Expr { return this.apply('concat', [s]) }
  /** Regular-expression search (Python re.search); flags 'i' for case-insensitive. */
  match(pattern: string, flags?: 'i'): Expr { return this.apply('match', [], flags ? { pattern, flags } : { pattern }) }
  regexReplace(pattern: string, replacement: ExprLike, flags?: 'i'): Expr {
    return this.apply('regex_replace', [replacement], flags ? { pattern, flags } : { pattern })
  }
  substr(start: number, end?: number): Expr { return this.apply('substr', [], end === undefined ? { start } : { start, end }) }

  // JSON and arrays
  /** JSON path: 'a.b[0]', 'items[*].name' (wildcards return a list). */
  path(path: string): Expr { return this.apply('json_path', [], { path }) }
  get(key: string): Expr { return this.apply('json_path', [], { path: `[${JSON.stringify(key)}]` }) }
  at(index: number): Expr { return this.apply('at', [], { index }) }
  slice(start?: number, end?: number): Expr {
    return this.apply('slice', [], { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) })
  }
  astype(type: string): Expr { return this.apply('astype', [], { type }) }
  /**
   * Similarity (higher is closer) to a text, { image }, or { vector } through this column's embedding index
   * (`idx` picks one when the column has several); usable in select, where and orderBy. `efSearch` widens the
   * approximate search for this query; `exact: true` ranks every row exactly.
   */
  similarity(query: unknown, options: { idx?: string; efSearch?: number; exact?: boolean } = {}): Expr {
    const { idx, efSearch, exact } = options
    return this.apply('similarity', [], { query, ...(idx ? { idx } : {}), ...(efSearch !== undefined ? { efSearch } : {}), ...(exact !== undefined ? { exact } : {}) })
  }

  /** For computed columns stored with onError 'ignore': the error class and message of each failed cell. */
  get errortype(): Expr { return this.#prop('errortype') }
  get errormsg(): Expr { return this.#prop('errormsg') }

  #prop(prop: 'errortype' | 'errormsg'): Expr {
    if (!isCol(this.node)) throw new TypeError(`${prop} exists only on column references, not on ${printExpr(this.node)}`)
    return new Expr(colNode(this.node.col, this.node.tbl, prop))
  }

  toJSON(): ExprNode { return this.node }
  toString(): string { return exprText(this.node) }
}

export const col = (name: string, table?: string): Expr => new Expr(colNode(name, table))
export const lit = (value: unknown, type?: string): Expr => new Expr(litNode(value, type))
export const and = (...xs: ExprLike[]): Expr => new Expr(fnNode('and', xs.map(toNode)))
export const or = (...xs: ExprLike[]): Expr => new Expr(fnNode('or', xs.map(toNode)))
export const not = (x: ExprLike): Expr => new Expr(fnNode('not', [toNode(x)]))
export const call = (fn: string, args: readonly ExprLike[] = [], opts?: Record<string, unknown>): Expr =>
  new Expr(fnNode(fn, args.map(toNode), opts))
export const ifElse = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr => call('if_else', [cond, a, b])
export const coalesce = (...xs: ExprLike[]): Expr => call('coalesce', xs)

/** Aggregates for groupBy/select. */
export const agg = {
  count: (x?: ExprLike): Expr => call('count', x === undefined ? [] : [x]),
  countDistinct: (x: ExprLike): Expr => call('count_distinct', [x]),
  sum: (x: ExprLike): Expr => call('sum', [x]),
  min: (x: ExprLike): Expr => call('min', [x]),
  max: (x: ExprLike): Expr => call('max', [x]),
  mean: (x: ExprLike): Expr => call('mean', [x]),
  makeList: (x: ExprLike): Expr => call('make_list', [x]),
}
