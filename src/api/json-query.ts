import * as v from 'valibot'
import type { Tessera } from '../catalog/index.ts'
import { invalid, TesseraError } from '../errors.ts'
import { Expr, ExprNodeSchema, inInsertionOrder, isFn, printExpr, SourceScope, containsAggregate, typeOf, inlineUnstored } from '../query/index.ts'
import type { ExprNode, Query, QuerySource } from '../query/index.ts'
import { checkNotReserved, reservedNameProblem } from '../types/index.ts'
import { nameRecord } from './request-pieces.ts'

// The JSON form of a query, as the HTTP API takes it. queryFromJson builds the very Query the library builds, so
// `queryFromJson(db, q.toJSON())` runs the same query; errors name the JSON path of the part that is wrong.

const Int0 = v.pipe(v.number(), v.integer(), v.minValue(0))
// Within ±2^53 (what a JSON number holds exactly): a larger seed reached the store's bigint parameter as 1e+300,
// which it refused naming no part of the query.
const Seed = v.optional(v.pipe(v.number(), v.safeInteger('expected an integer within ±2^53')))

export const JsonQuerySchema = v.strictObject({
  table: v.pipe(v.string(), v.minLength(1)),
  select: v.optional(v.union([
    v.array(v.strictObject({ name: v.pipe(v.string(), v.minLength(1)), expr: ExprNodeSchema })),
    nameRecord(v.pipe(v.string(), v.minLength(1)), ExprNodeSchema, 'output name'),
  ], 'expected [{"name": ..., "expr": ...}] or {"name": expr}')),
  where: v.optional(ExprNodeSchema),
  orderBy: v.optional(v.array(v.strictObject({ expr: ExprNodeSchema, desc: v.optional(v.boolean()) }))),
  groupBy: v.optional(v.array(ExprNodeSchema)),
  limit: v.optional(Int0),
  offset: v.optional(Int0),
  distinct: v.optional(v.boolean()),
  sample: v.optional(v.union([
    v.strictObject({ n: Int0, seed: Seed }),
    v.strictObject({ fraction: v.pipe(v.number(), v.minValue(0), v.maxValue(1)), seed: Seed }),
  ], 'expected {"n": count, "seed"?: int} or {"fraction": 0..1, "seed"?: int}')),
  joins: v.optional(v.array(v.strictObject({
    table: v.pipe(v.string(), v.minLength(1)),
    on: v.optional(ExprNodeSchema),
    how: v.optional(v.picklist(['inner', 'left', 'right', 'full', 'cross'])),
  }))),
  /** Order by insertion where orderBy leaves rows tied (or is absent): what head(), tail() and stream() send. */
  insertionOrder: v.optional(v.picklist(['asc', 'desc'])),
  /** Read by the HTTP route (answer with the row count instead of rows); the query itself ignores it. */
  count: v.optional(v.boolean()),
})

export type JsonQuery = v.InferOutput<typeof JsonQuerySchema>

const keyPath = (key: unknown): string =>
  typeof key === 'number' ? `[${key}]` : typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`

const joinPath = (keys: readonly unknown[]): string => keys.map(keyPath).join('').replace(/^\./, '')

/**
 * The most specific issue and its full path: valibot reports a failed union at the union, with sub-issues whose
 * paths are relative to the union's input; the deepest sub-issue says what is wrong.
 */
function deepest(issue: v.BaseIssue<unknown>, prefix: readonly unknown[] = []): { issue: v.BaseIssue<unknown>; path: unknown[] } {
  const own = [...prefix, ...(issue.path?.map((p) => p.key) ?? [])]
  let best = { issue, path: own }
  for (const sub of issue.issues ?? []) {
    const d = deepest(sub, own)
    if (d.path.length > best.path.length) best = d
  }
  return best
}

const EXPECTED = 'expected an expression: {"col": name}, {"lit": value} or {"fn": name, "args": [...]}'
const isPlain = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)

/**
 * The first problem in an expression's JSON form, with its path. A union of the three node shapes cannot say which
 * shape was meant; the key present (col, lit or fn) does, so the message is about that shape.
 */
function exprIssue(x: unknown, path: string): string | undefined {
  if (!isPlain(x)) return `${path}: ${EXPECTED}`
  const kind = 'col' in x ? 'col' : 'lit' in x ? 'lit' : 'fn' in x ? 'fn' : undefined
  if (!kind) return `${path}: ${EXPECTED}`
  const allowed = { col: ['col', 'tbl', 'prop'], lit: ['lit', 'type'], fn: ['fn', 'args', 'opts'] }[kind]
  const extra = Object.keys(x).find((k) => !allowed.includes(k))
  if (extra !== undefined) return `${path}${keyPath(extra)}: unknown key '${extra}' in ${kind === 'col' ? 'a column reference' : kind === 'lit' ? 'a literal' : 'a function call'} (allowed: ${allowed.join(', ')})`
  if (kind === 'col') {
    if (typeof x.col !== 'string' || x.col === '') return `${path}.col: expected a column name`
    if (x.tbl !== undefined && typeof x.tbl !== 'string') return `${path}.tbl: expected a table path`
    if (x.prop !== undefined && x.prop !== 'errortype' && x.prop !== 'errormsg') return `${path}.prop: expected 'errortype' or 'errormsg'`
    return undefined
  }
  if (kind === 'lit') return x.type !== undefined && typeof x.type !== 'string' ? `${path}.type: expected a type such as 'timestamp'` : undefined
  if (typeof x.fn !== 'string' || x.fn === '') return `${path}.fn: expected a function name`
  if (x.opts !== undefined && !isPlain(x.opts)) return `${path}.opts: expected an object of options`
  if (x.args === undefined) return undefined
  if (!Array.isArray(x.args)) return `${path}.args: expected a list of expressions`
  for (let i = 0; i < x.args.length; i++) {
    const issue = exprIssue(x.args[i], `${path}.args[${i}]`)
    if (issue) return issue
  }
  return undefined
}

/** The expressions of a body that has the right outer shape, with their paths. */
function exprPositions(b: Record<string, unknown>): [unknown, string][] {
  const out: [unknown, string][] = []
  if (Array.isArray(b.select)) b.select.forEach((s, i) => isPlain(s) && 'expr' in s && out.push([s.expr, `select[${i}].expr`]))
  else if (isPlain(b.select)) for (const [k, e] of Object.entries(b.select)) out.push([e, `select${keyPath(k)}`])
  if ('where' in b && b.where !== undefined) out.push([b.where, 'where'])
  if (Array.isArray(b.orderBy)) b.orderBy.forEach((o, i) => isPlain(o) && 'expr' in o && out.push([o.expr, `orderBy[${i}].expr`]))
  if (Array.isArray(b.groupBy)) b.groupBy.forEach((g, i) => out.push([g, `groupBy[${i}]`]))
  if (Array.isArray(b.joins)) b.joins.forEach((j, i) => isPlain(j) && 'on' in j && out.push([j.on, `joins[${i}].on`]))
  return out
}

// ---- the fast path ----
// Valibot's union over the three node shapes cost ~240 µs per point query (most of the HTTP path's own time). A
// body that is plainly well formed is read straight into nodes here, in one pass; anything this reader is unsure of
// goes to the schema, which accepts or refuses it with its own messages, so the two can only differ in speed.

const SELECT_KEYS = new Set(['name', 'expr'])
const ORDER_KEYS = new Set(['expr', 'desc'])
const JOIN_KEYS = new Set(['table', 'on', 'how'])
const JOIN_HOWS = new Set(['inner', 'left', 'right', 'full', 'cross'])
const BODY_KEYS = new Set(['table', 'select', 'where', 'orderBy', 'groupBy', 'limit', 'offset', 'distinct', 'sample', 'joins', 'insertionOrder', 'count'])

const onlyKeys = (o: Record<string, unknown>, keys: Set<string>): boolean => {
  for (const k in o) if (!keys.has(k)) return false
  return true
}
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0

/** An expression node read straight from JSON, or undefined when the schema should decide. */
function fastNode(x: unknown): ExprNode | undefined {
  if (!isPlain(x)) return undefined
  if (typeof x.col === 'string') {
    let n = 1
    if (x.tbl !== undefined) { if (typeof x.tbl !== 'string') return undefined; n++ }
    if (x.prop !== undefined) { if (x.prop !== 'errortype' && x.prop !== 'errormsg') return undefined; n++ }
    if (x.col === '' || Object.keys(x).length !== n) return undefined
    return { ...x } as unknown as ExprNode
  }
  if ('lit' in x) {
    if (x.type !== undefined && typeof x.type !== 'string') return undefined
    return Object.keys(x).length === (x.type === undefined ? 1 : 2) ? ({ ...x } as unknown as ExprNode) : undefined
  }
  if (typeof x.fn === 'string' && x.fn !== '') {
    let n = 1
    let args: ExprNode[] = []
    if (x.args !== undefined) {
      if (!Array.isArray(x.args)) return undefined
      args = new Array<ExprNode>(x.args.length)
      for (let i = 0; i < x.args.length; i++) {
        const a = fastNode(x.args[i])
        if (!a) return undefined
        args[i] = a
      }
      n++
    }
    if (x.opts !== undefined) { if (!isPlain(x.opts)) return undefined; n++ }
    if (Object.keys(x).length !== n) return undefined
    return (x.opts !== undefined ? { fn: x.fn, args, opts: { ...x.opts } } : { fn: x.fn, args }) as ExprNode
  }
  return undefined
}

/** The whole body read straight into a JsonQuery, or undefined when the schema should decide. */
export function fastJsonQuery(b: unknown): JsonQuery | undefined {
  if (!isPlain(b) || typeof b.table !== 'string' || b.table === '' || !onlyKeys(b, BODY_KEYS)) return undefined
  const out: Record<string, unknown> = { table: b.table }
  if (b.select !== undefined) {
    if (Array.isArray(b.select)) {
      const items = []
      for (const it of b.select) {
        // A reserved output name ('__proto__') is left to the schema and queryFromJson, which refuse it.
        if (!isPlain(it) || typeof it.name !== 'string' || it.name === '' || reservedNameProblem(it.name) || !onlyKeys(it, SELECT_KEYS)) return undefined
        const expr = fastNode(it.expr)
        if (!expr) return undefined
        items.push({ name: it.name, expr })
      }
      out.select = items
    } else if (isPlain(b.select)) {
      const rec: Record<string, ExprNode> = {}
      for (const [name, e] of Object.entries(b.select)) {
        // rec['__proto__'] = … would set rec's prototype: a reserved name is left to the schema, which refuses it.
        const expr = name !== '' && !reservedNameProblem(name) ? fastNode(e) : undefined
        if (!expr) return undefined
        rec[name] = expr
      }
      out.select = rec
    } else return undefined
  }
  if (b.where !== undefined) if (!(out.where = fastNode(b.where))) return undefined
  if (b.orderBy !== undefined) {
    if (!Array.isArray(b.orderBy)) return undefined
    const items = []
    for (const o of b.orderBy) {
      if (!isPlain(o) || !onlyKeys(o, ORDER_KEYS) || (o.desc !== undefined && typeof o.desc !== 'boolean')) return undefined
      const expr = fastNode(o.expr)
      if (!expr) return undefined
      items.push(o.desc === undefined ? { expr } : { expr, desc: o.desc })
    }
    out.orderBy = items
  }
  if (b.groupBy !== undefined) {
    if (!Array.isArray(b.groupBy)) return undefined
    const items = b.groupBy.map(fastNode)
    if (items.some((x) => !x)) return undefined
    out.groupBy = items
  }
  for (const k of ['limit', 'offset'] as const) if (b[k] !== undefined) { if (!isCount(b[k])) return undefined; out[k] = b[k] }
  for (const k of ['distinct', 'count'] as const) if (b[k] !== undefined) { if (typeof b[k] !== 'boolean') return undefined; out[k] = b[k] }
  if (b.insertionOrder !== undefined) { if (b.insertionOrder !== 'asc' && b.insertionOrder !== 'desc') return undefined; out.insertionOrder = b.insertionOrder }
  if (b.sample !== undefined || b.joins !== undefined) {
    // Rare in hot paths: the schema reads them (and the rest again).
    if (b.sample !== undefined) return undefined
    if (!Array.isArray(b.joins)) return undefined
    const joins = []
    for (const j of b.joins) {
      if (!isPlain(j) || typeof j.table !== 'string' || j.table === '' || !onlyKeys(j, JOIN_KEYS)) return undefined
      if (j.how !== undefined && !(typeof j.how === 'string' && JOIN_HOWS.has(j.how))) return undefined
      const on = j.on === undefined ? undefined : fastNode(j.on)
      if (j.on !== undefined && !on) return undefined
      joins.push({ table: j.table, ...(on ? { on } : {}), ...(j.how !== undefined ? { how: j.how } : {}) })
    }
    out.joins = joins
  }
  return out as JsonQuery
}

/** Parses and validates a JSON query body; throws INVALID_ARGUMENT naming the JSON path of the bad part. */
export function parseJsonQuery(body: unknown): JsonQuery {
  const fast = fastJsonQuery(body)
  if (fast) return fast
  const parsed = v.safeParse(JsonQuerySchema, body)
  if (parsed.success) return parsed.output
  if (isPlain(body)) {
    for (const [expr, at] of exprPositions(body)) {
      const issue = exprIssue(expr, at)
      if (issue) throw invalid('INVALID_ARGUMENT', issue, { path: issue.slice(0, issue.indexOf(': ')) })
    }
  }
  const { issue, path: keys } = deepest(parsed.issues[0])
  const path = joinPath(keys)
  throw invalid('INVALID_ARGUMENT', `${path || 'query'}: ${issue.message}`, { path })
}

/** Re-throws a TesseraError with the JSON path in front of its message, keeping its class and code. */
function atPath(e: unknown, path: string): unknown {
  if (!(e instanceof TesseraError)) return e
  const Ctor = e.constructor as new (code: TesseraError['code'], message: string, details?: Record<string, unknown>) => TesseraError
  // details.path becomes the JSON path; a table path it held moves to details.table, where the server's tenant
  // redaction (src/server/tenant.ts) still sees it (an error about another tenant's table, a view's base, lost it).
  const original = e.details?.path
  const table = typeof original === 'string' && original !== path && e.details?.table === undefined ? { table: original } : {}
  return new Ctor(e.code, `${path}: ${e.message}`, { ...e.details, ...table, path })
}

/**
 * Type-checks an expression; on failure, names the deepest argument that fails on its own. Per-cell error references
 * (x.errortype) are checked first, by the planner's own rule, so they fail with the library's message.
 */
function check(node: ExprNode, scope: SourceScope, path: string, sources: readonly QuerySource[]): void {
  try {
    inlineUnstored(node, sources)
    typeOf(node, scope)
  } catch (e) {
    if (isFn(node)) {
      node.args.forEach((a, i) => {
        let ok = true
        try {
          typeOf(a, scope)
        } catch {
          ok = false
        }
        if (!ok) check(a, scope, `${path}.args[${i}]`, sources)
      })
    }
    throw atPath(e, path)
  }
}

function checkBool(node: ExprNode, scope: SourceScope, path: string, what: string, sources: readonly QuerySource[]): void {
  check(node, scope, path, sources)
  const t = typeOf(node, scope)
  if (t.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `${path}: ${what} needs a boolean expression, got ${t.kind} from ${printExpr(node)}`, { path })
}

async function table(db: Tessera, path: string, at: string) {
  try {
    return await db.getTable(path)
  } catch (e) {
    throw atPath(e, at)
  }
}

/** Builds the Query a JSON body describes (tables resolved through db.getTable, 'dir/t:3' reads version 3). */
export async function queryFromJson(db: Tessera, body: unknown): Promise<Query> {
  const j = parseJsonQuery(body)
  let q: Query = (await table(db, j.table, 'table')).query()
  for (const [i, join] of (j.joins ?? []).entries()) {
    const how = join.how ?? 'inner'
    if ((how === 'cross') === (join.on !== undefined)) throw invalid('INVALID_ARGUMENT', how === 'cross' ? `joins[${i}].on: a cross join takes no on` : `joins[${i}].on: a${how === 'inner' ? 'n' : ''} ${how} join needs on`, { path: `joins[${i}].on` })
    q = q.join(await table(db, join.table, `joins[${i}].table`), { ...(join.on ? { on: new Expr(join.on) } : {}), how })
  }
  const sources = [q.spec.from, ...q.spec.joins.map((x) => x.source)]
  const scope = new SourceScope([{ source: q.spec.from, alias: 't0' }, ...q.spec.joins.map((x, i) => ({ source: x.source, alias: `t${i + 1}` }))])
  j.joins?.forEach((join, i) => join.on && checkBool(join.on, scope, `joins[${i}].on`, 'a join condition', sources))

  if (j.where) {
    checkBool(j.where, scope, 'where', 'where()', sources)
    if (containsAggregate(j.where)) throw invalid('INVALID_EXPRESSION', `where: aggregates are not allowed in where: ${printExpr(j.where)}`, { path: 'where' })
    q = q.where(new Expr(j.where))
  }
  if (j.select) {
    const items = Array.isArray(j.select)
      ? j.select.map((s, i) => ({ name: s.name, expr: s.expr, path: `select[${i}]`, exprPath: `select[${i}].expr` }))
      : Object.entries(j.select).map(([name, expr]) => ({ name, expr, path: `select${keyPath(name)}`, exprPath: `select${keyPath(name)}` }))
    const seen = new Set<string>()
    for (const it of items) {
      // An output named '__proto__' would be lost from every answer row (a plain object); see src/types/names.ts.
      try {
        checkNotReserved(it.name, 'output name')
      } catch (e) {
        throw atPath(e, it.path)
      }
      if (seen.has(it.name)) throw invalid('INVALID_ARGUMENT', `${it.path}: output name '${it.name}' is used twice`, { path: it.path })
      seen.add(it.name)
      check(it.expr, scope, it.exprPath, sources)
    }
    // One record per item keeps the order (an object would move integer-like names first).
    q = q.select(...items.map((it) => ({ [it.name]: new Expr(it.expr) })))
  }
  j.orderBy?.forEach((o, i) => {
    check(o.expr, scope, `orderBy[${i}].expr`, sources)
    q = q.orderBy(new Expr(o.expr), o.desc ? 'desc' : 'asc')
  })
  if (j.groupBy) {
    j.groupBy.forEach((g, i) => check(g, scope, `groupBy[${i}]`, sources))
    q = q.groupBy(...j.groupBy.map((g) => new Expr(g)))
  }
  if (j.limit !== undefined) q = q.limit(j.limit)
  if (j.offset !== undefined) q = q.offset(j.offset)
  if (j.distinct) q = q.distinct()
  if (j.sample) q = q.sample(j.sample)
  if (j.insertionOrder) q = inInsertionOrder(q, j.insertionOrder)
  return q
}
