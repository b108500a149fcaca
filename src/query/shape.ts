import type { ExprNode, FnNode, LitNode } from './nodes/index.ts'
import { isCol, isLit, litNode } from './nodes/index.ts'
import { functions } from './registry.ts'
import type { QuerySource, QuerySpec } from './spec.ts'

// A query's shape: everything that decides its SQL text (tables and their schemas, the expression tree, names,
// limits), with each literal reduced to what changes the SQL (its kind, null or not, a forced type). Two queries of
// one shape compile to the same statement with different parameters, so the plan cache keys on this string and
// refills the parameters from `literals`, which lists the literal nodes in the order the key visits them.

export interface QueryShape {
  readonly key: string
  readonly literals: readonly LitNode[]
}

/**
 * Function options that carry data, not structure (a similarity search's query vector, the native index's candidate
 * keys and distances): by function name, the options its SQL binds as parameters through `optionLiteral`. The shape
 * keeps every other option and reduces these to literals, so searches with other vectors or candidates share one
 * shape, one plan and one prepared statement. A function declares them where it is registered.
 */
const boundOptions = new Map<string, readonly string[]>()

export function declareBoundOptions(fn: string, names: readonly string[]): void {
  boundOptions.set(fn, Object.freeze([...names]))
}

/** Per function node, the literal standing for each bound option: the same object when the shape is taken and when the SQL is written. */
const optionLiterals = new WeakMap<FnNode, Map<string, LitNode>>()

/**
 * The literal of a bound option of `node`: the plan cache records which parameter it fills (ParamList.literal)
 * and refills that parameter from the next query's node.
 */
export function optionLiteral(node: FnNode, name: string): LitNode {
  let byName = optionLiterals.get(node)
  if (!byName) optionLiterals.set(node, (byName = new Map()))
  let lit = byName.get(name)
  if (!lit) byName.set(name, (lit = litNode(node.opts?.[name])))
  return lit
}

/** Schemas by identity: a table's metadata object is replaced on every schema change, so a new one is a new shape. */
const schemaIds = new WeakMap<object, number>()
let nextSchemaId = 1

function schemaId(md: object): number {
  let id = schemaIds.get(md)
  if (id === undefined) schemaIds.set(md, (id = nextSchemaId++))
  return id
}

/** Length-prefixed, so no name can be read as part of the next one. */
const str = (s: string): string => `${s.length}:${s}`

/** What decides a literal's SQL: null compiles to IS NULL, and the JS type decides the parameter's cast. */
function literalKind(n: LitNode): string {
  const v = n.lit
  const kind = v === null ? 'n' : v === undefined ? 'u' : typeof v === 'number' ? (Number.isInteger(v) ? 'i' : 'f')
    : typeof v === 'bigint' ? 'i' : typeof v === 'string' ? 's' : typeof v === 'boolean' ? 'b'
    : v instanceof Date ? 'd' : v instanceof Uint8Array ? 'y' : 'j'
  return n.type === undefined ? kind : `${kind}${str(n.type)}`
}

export function queryShape(spec: QuerySpec): QueryShape {
  const literals: LitNode[] = []
  const expr = (n: ExprNode): string => {
    if (isCol(n)) return `c${str(n.col)}${n.tbl !== undefined ? `t${str(n.tbl)}` : ''}${n.prop !== undefined ? `p${n.prop}` : ''}`
    if (isLit(n)) {
      literals.push(n)
      return `l${literalKind(n)}`
    }
    let s = `f${str(n.fn)}(`
    for (const a of n.args) s += `${expr(a)},`
    if (!n.opts) return `${s})`
    const bound = boundOptions.get(n.fn)
    if (!bound) return `${s})${str(JSON.stringify(n.opts))}`
    const fixed = Object.fromEntries(Object.entries(n.opts).filter(([k]) => !bound.includes(k)))
    s = `${s})${str(JSON.stringify(fixed))}b`
    // An array's length stays in the shape: SQL may depend on it (a query vector's dimensions are checked against
    // the index's when the statement is written, and a refilled plan is not checked again).
    for (const name of bound) {
      const lit = optionLiteral(n, name)
      s += `l${literalKind(lit)}${Array.isArray(lit.lit) ? `#${lit.lit.length}` : ''}`
    }
    for (const name of bound) literals.push(optionLiteral(n, name))
    return s
  }
  const source = (s: QuerySource): string => `${s.tableId}@${s.version ?? ''}#${schemaId(s.md)}${str(s.path)}`
  let key = `F${functions.generation}|${source(spec.from)}`
  for (const j of spec.joins) key += `|J${j.how}${source(j.source)}${j.on ? expr(j.on) : ''}`
  if (spec.where) key += `|W${expr(spec.where)}`
  if (spec.select) {
    key += '|S'
    for (const it of spec.select) key += `${str(it.name)}${expr(it.expr)}`
  }
  if (spec.orderBy.length > 0) {
    key += '|O'
    for (const o of spec.orderBy) key += `${expr(o.expr)}${o.desc ? 'd' : 'a'}`
  }
  if (spec.groupBy) {
    key += '|G'
    for (const g of spec.groupBy) key += expr(g)
  }
  if (spec.limit !== undefined) key += `|L${spec.limit}`
  if (spec.offset !== undefined) key += `|K${spec.offset}`
  if (spec.distinct) key += '|D'
  if (spec.sample) key += `|R${spec.sample.n ?? ''},${spec.sample.fraction ?? ''},${spec.sample.seed}`
  if (spec.insertionOrder) key += `|I${spec.insertionOrder}`
  return { key, literals }
}
